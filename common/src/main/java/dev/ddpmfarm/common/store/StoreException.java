package dev.ddpmfarm.common.store;

/** An object store operation failed. {@link #retriable()} is true for faults that a later attempt may not see. */
public final class StoreException extends RuntimeException {
    private final boolean retriable;

    public StoreException(String message, Throwable cause, boolean retriable) {
        super(message, cause);
        this.retriable = retriable;
    }

    public boolean retriable() {
        return retriable;
    }
}

package dev.ddpmfarm.common.data;

import java.io.IOException;

/** A file that is not a well-formed IDX file: bad magic, unsupported type, truncated or corrupt. */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public IdxFormatException(String message) {
        super(message);
    }

    public IdxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

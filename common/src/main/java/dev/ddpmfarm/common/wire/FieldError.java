package dev.ddpmfarm.common.wire;

/**
 * One invalid field of a request, as listed in the {@code errors} member of a problem+json response (SPEC §3).
 *
 * @param field   the field's path, dotted with indices: {@code count}, {@code input.indices[3]}; empty for the body
 * @param message what is wrong, in words a user can act on
 */
public record FieldError(String field, String message) {
    public FieldError {
        if (field == null) {
            throw new IllegalArgumentException("field must not be null");
        }
        if (message == null || message.isBlank()) {
            throw new IllegalArgumentException("message must not be blank");
        }
    }

    /** This error with {@code prefix} prepended to its field, for errors found inside a nested object. */
    public FieldError under(String prefix) {
        if (prefix.isEmpty()) {
            return this;
        }
        return new FieldError(field.isEmpty() ? prefix : field.startsWith("[") ? prefix + field : prefix + "." + field,
                message);
    }
}

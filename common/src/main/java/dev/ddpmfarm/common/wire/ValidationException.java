package dev.ddpmfarm.common.wire;

import java.util.List;
import java.util.stream.Collectors;

/** A wire record was given invalid values; {@link #errors()} lists every bad field, not only the first. */
public final class ValidationException extends IllegalArgumentException {
    private final transient List<FieldError> errors;

    public ValidationException(List<FieldError> errors) {
        super(errors.stream().map(e -> e.field().isEmpty() ? e.message() : e.field() + ": " + e.message())
                .collect(Collectors.joining("; ")));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a validation failure needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    public List<FieldError> errors() {
        return errors;
    }
}

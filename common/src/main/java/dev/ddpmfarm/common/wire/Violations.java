package dev.ddpmfarm.common.wire;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the invalid fields of a record under construction so that a compact constructor reports all of them at
 * once: call the checks, then {@link #throwIfAny()}.
 */
public final class Violations {
    private final List<FieldError> errors = new ArrayList<>();

    /** Records {@code message} for {@code field} when {@code ok} is false; returns {@code ok}. */
    public boolean check(boolean ok, String field, String message) {
        if (!ok) {
            errors.add(new FieldError(field, message));
        }
        return ok;
    }

    /** Checks {@code min <= value <= max} for an optional value (null passes). */
    public boolean range(Number value, long min, long max, String field) {
        return value == null || check(value.longValue() >= min && value.longValue() <= max, field,
                "must be between " + min + " and " + max + ", was " + value);
    }

    /** Checks {@code min <= value <= max} for an optional decimal value (null passes; NaN fails). */
    public boolean range(Double value, double min, double max, String field) {
        return value == null || check(value >= min && value <= max, field,
                "must be between " + min + " and " + max + ", was " + value);
    }

    public void add(FieldError error) {
        errors.add(error);
    }

    /** Adds the errors of a nested record, their fields prefixed with {@code prefix}. */
    public void addAll(String prefix, List<FieldError> nested) {
        nested.forEach(e -> errors.add(e.under(prefix)));
    }

    public boolean isEmpty() {
        return errors.isEmpty();
    }

    public List<FieldError> errors() {
        return List.copyOf(errors);
    }

    /** @throws ValidationException listing every recorded error, when there is one */
    public void throwIfAny() {
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
    }
}

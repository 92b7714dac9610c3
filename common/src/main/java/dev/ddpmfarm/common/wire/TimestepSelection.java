package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The timesteps a rate-distortion job evaluates: the JSON string {@code "all"} (t = 1 … T) or a list of t.
 *
 * @param all   true for every timestep of the model
 * @param steps the listed timesteps (empty when {@code all})
 */
public record TimestepSelection(boolean all, List<Integer> steps) {

    public static final TimestepSelection ALL = new TimestepSelection(true, List.of());
    /** The longest list accepted: every step 0 … T of a model of T = 10,000 steps. */
    public static final int MAX_LISTED = 10_001;

    public TimestepSelection {
        steps = List.copyOf(steps);
        if (all != steps.isEmpty()) {
            throw new IllegalArgumentException("either all timesteps or a non-empty list");
        }
    }

    /** Reads {@code "all"} or an array of integers; anything else is an error naming both forms. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static TimestepSelection fromJson(JsonNode node) {
        if (node.isTextual() && node.textValue().equals("all")) {
            return ALL;
        }
        if (node.isArray() && !node.isEmpty()) {
            if (node.size() > MAX_LISTED) {
                throw new IllegalArgumentException("must list at most " + MAX_LISTED + " timesteps, or be \"all\"");
            }
            List<Integer> steps = new ArrayList<>();
            for (JsonNode n : node) {
                if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                    throw new IllegalArgumentException("must be \"all\" or a non-empty list of integers");
                }
                steps.add(n.intValue());
            }
            if (new HashSet<>(steps).size() < steps.size()) {
                throw new IllegalArgumentException("must not repeat a timestep");
            }
            return new TimestepSelection(false, steps);
        }
        throw new IllegalArgumentException("must be \"all\" or a non-empty list of integers");
    }

    @JsonValue
    public Object toJson() {
        return all ? "all" : steps;
    }

    /** The checks against the model's T: every listed step in {@code 0 … T}. */
    List<FieldError> validate(String field, int timesteps) {
        return checkRange(field, steps, timesteps);
    }

    /** Every t of {@code steps} outside {@code 0 … T}, as errors of {@code field[i]}. */
    static List<FieldError> checkRange(String field, List<Integer> steps, int timesteps) {
        List<FieldError> errors = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            int t = steps.get(i);
            if (t < 0 || t > timesteps) {
                errors.add(new FieldError(field + "[" + i + "]", "must be between 0 and T = " + timesteps + ", was " + t));
            }
        }
        return errors;
    }
}

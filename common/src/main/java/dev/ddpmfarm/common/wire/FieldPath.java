package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.databind.JsonMappingException.Reference;
import java.util.List;

/** Renders a Jackson reference path as the field names of {@link FieldError}: {@code input.indices[3]}. */
final class FieldPath {
    private FieldPath() {
    }

    static String of(List<Reference> path) {
        StringBuilder sb = new StringBuilder();
        for (Reference r : path) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }
}

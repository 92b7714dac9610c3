package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** An enum written on the wire by a lower-case name ({@code rate-distortion}); unknown names fail loudly. */
public interface WireEnum {

    @JsonValue
    String wireName();

    /**
     * The constant of {@code type} whose wire name is {@code name}.
     *
     * @throws IllegalArgumentException naming the accepted values, when there is none
     */
    static <E extends Enum<E> & WireEnum> E parse(Class<E> type, String name) {
        for (E e : type.getEnumConstants()) {
            if (e.wireName().equals(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown value '" + name + "', expected one of " + names(type));
    }

    /** The accepted wire names of {@code type}, comma separated. */
    static <E extends Enum<E> & WireEnum> String names(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(WireEnum::wireName).collect(Collectors.joining(", "));
    }
}

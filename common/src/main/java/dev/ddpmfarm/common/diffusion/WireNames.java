package dev.ddpmfarm.common.diffusion;

import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Looks up a mode enum by its wire name, failing loudly on an unknown one. */
final class WireNames {
    private WireNames() {
    }

    static <E extends Enum<E>> E lookup(Class<E> type, Function<E, String> wireName, String what, String name) {
        E[] values = type.getEnumConstants();
        return Arrays.stream(values).filter(v -> wireName.apply(v).equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown " + what + " '" + name + "', expected one of "
                        + Arrays.stream(values).map(wireName).collect(Collectors.joining(", "))));
    }
}

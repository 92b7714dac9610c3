package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.common.diffusion.Guidance;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} command-line arguments. */
public final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    public Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                values.put(args[i], args[++i]);
            } else {
                flags.add(args[i]);
            }
        }
    }

    public String value(String name, String fallback) {
        String v = values.getOrDefault(name, fallback);
        if (v == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return v;
    }

    public java.util.Optional<String> optional(String name) {
        return java.util.Optional.ofNullable(values.get(name));
    }

    public boolean flag(String name) {
        return flags.contains(name);
    }

    /** {@code --guidance G [--guidance-start F] [--guidance-stop F]}: the scale and the steps it holds for. */
    public Guidance guidance(String defaultScale) {
        Guidance g = new Guidance(Double.parseDouble(value("--guidance", defaultScale)),
                Double.parseDouble(value("--guidance-start", "0")), Double.parseDouble(value("--guidance-stop", "1")));
        if (!g.any() && (values.containsKey("--guidance-start") || values.containsKey("--guidance-stop"))) {
            throw new IllegalArgumentException("--guidance-start and --guidance-stop limit guidance to part of the"
                    + " steps: give --guidance too");
        }
        return g;
    }
}

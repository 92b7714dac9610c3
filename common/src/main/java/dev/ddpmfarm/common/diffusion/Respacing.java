package dev.ddpmfarm.common.diffusion;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Which steps of a T-step process a shorter sampler keeps (after Nichol and Dhariwal's {@code space_timesteps}).
 * The result feeds {@link GaussianDiffusion#respace}.
 */
public final class Respacing {
    private Respacing() {
    }

    /**
     * {@code steps} steps spread evenly over 0 … T-1, rounded to the nearest integer (ties to even): both ends are kept, so sampling
     * starts at the same noise level as the full process. {@code steps = T} keeps every step; a single step keeps
     * T-1 (one jump from pure noise to x̂_0).
     */
    public static int[] evenly(int timesteps, int steps) {
        if (steps < 1 || steps > timesteps) {
            throw new IllegalArgumentException("steps must lie in 1.." + timesteps + ", got " + steps);
        }
        return steps == 1 ? new int[] {timesteps - 1} : sections(timesteps, new int[] {steps});
    }

    /**
     * A spacing written as in {@code space_timesteps}: {@code "ddimN"} for the integer stride of the DDIM paper
     * (0, s, 2s, … with exactly N steps), or comma-separated counts {@code "10,15,20"} that split 0 … T-1 into equal
     * sections and spread each count evenly within its section.
     */
    public static int[] parse(int timesteps, String spec) {
        if (spec.startsWith("ddim")) {
            int count = Integer.parseInt(spec.substring("ddim".length()));
            for (int stride = 1; stride < timesteps; stride++) {
                if ((timesteps + stride - 1) / stride == count) {
                    int[] kept = new int[count];
                    for (int k = 0; k < count; k++) {
                        kept[k] = k * stride;
                    }
                    return kept;
                }
            }
            throw new IllegalArgumentException("cannot take exactly " + count + " of " + timesteps
                    + " steps with an integer stride");
        }
        return sections(timesteps, Arrays.stream(spec.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray());
    }

    /** Splits 0 … T-1 into {@code counts.length} equal sections and spreads each count evenly within its own. */
    private static int[] sections(int timesteps, int[] counts) {
        int sizePer = timesteps / counts.length;
        int extra = timesteps % counts.length;
        TreeSet<Integer> kept = new TreeSet<>();
        int start = 0;
        for (int i = 0; i < counts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            if (counts[i] < 1 || counts[i] > size) {
                throw new IllegalArgumentException("cannot divide a section of " + size + " steps into " + counts[i]);
            }
            double stride = counts[i] == 1 ? 1 : (size - 1.0) / (counts[i] - 1);
            for (int k = 0; k < counts[i]; k++) {
                kept.add(start + (int) Math.rint(k * stride));
            }
            start += size;
        }
        return kept.stream().mapToInt(Integer::intValue).toArray();
    }
}

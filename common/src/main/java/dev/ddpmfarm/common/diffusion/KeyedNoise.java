package dev.ddpmfarm.common.diffusion;

/**
 * Standard normal noise drawn from a generator keyed by (seed, sample, step), so that the noise a sample sees does
 * not depend on which other samples share its batch, on the order of the batches, or on whether the run was resumed
 * from a checkpoint (SPEC §8, Determinism).
 *
 * <p>The generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014), implemented here rather than taken from {@code java.util.SplittableRandom} so that the stream is
 * fixed by this code and not by a JDK version; normals come from Marsaglia's polar method with {@link StrictMath},
 * so the same key gives bit-identical noise on every machine.
 */
public final class KeyedNoise {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final double DOUBLE_UNIT = 0x1.0p-53;

    private long state;
    private double spare;
    private boolean hasSpare;

    private KeyedNoise(long seed, long sample, long step) {
        state = mix(mix(mix(seed) ^ (sample * GOLDEN_GAMMA)) + step * 0xC2B2AE3D27D4EB4FL);
    }

    /** {@code n} independent N(0, 1) values for this key, as floats. */
    public static float[] gaussian(long seed, long sample, long step, int n) {
        float[] out = new float[n];
        KeyedNoise noise = new KeyedNoise(seed, sample, step);
        for (int i = 0; i < n; i++) {
            out[i] = (float) noise.nextGaussian();
        }
        return out;
    }

    private double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u;
        double v;
        double s;
        do {
            u = 2 * nextDouble() - 1;
            v = 2 * nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double scale = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
        spare = v * scale;
        hasSpare = true;
        return u * scale;
    }

    private double nextDouble() {
        state += GOLDEN_GAMMA;
        return (mix(state) >>> 11) * DOUBLE_UNIT;
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser, SplitMix64's output function. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

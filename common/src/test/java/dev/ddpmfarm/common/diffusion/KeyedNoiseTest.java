package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class KeyedNoiseTest {

    @Test
    @DisplayName("the same (seed, sample, step) gives the same noise; changing any part of the key changes it")
    void keyed() {
        float[] a = KeyedNoise.gaussian(42, 7, 500, 64);
        assertArrayEquals(a, KeyedNoise.gaussian(42, 7, 500, 64));
        assertArrayEquals(Arrays.copyOf(a, 10), KeyedNoise.gaussian(42, 7, 500, 10));
        assertFalse(Arrays.equals(a, KeyedNoise.gaussian(43, 7, 500, 64)));
        assertFalse(Arrays.equals(a, KeyedNoise.gaussian(42, 8, 500, 64)));
        assertFalse(Arrays.equals(a, KeyedNoise.gaussian(42, 7, 499, 64)));
        assertFalse(Arrays.equals(KeyedNoise.gaussian(0, 1, 0, 64), KeyedNoise.gaussian(0, 0, 1, 64)));
    }

    @Test
    @DisplayName("the noise pinned for one key does not change between versions or machines")
    void pinned() {
        float[] a = KeyedNoise.gaussian(42, 0, 1000, 3);
        assertArrayEquals(new float[] {1.5733778f, -0.6472485f, -1.0321109f}, a,
                "SplitMix64 + polar method, as recomputed independently in Python");
    }

    @Test
    @DisplayName("the values are standard normal: mean 0, variance 1, 68.3% within one σ, no correlation across keys")
    void standardNormal() {
        int n = 0;
        double sum = 0;
        double sumSq = 0;
        double cross = 0;
        int within = 0;
        for (int sample = 0; sample < 200; sample++) {
            float[] x = KeyedNoise.gaussian(1, sample, 3, 1000);
            float[] y = KeyedNoise.gaussian(1, sample, 4, 1000);
            for (int i = 0; i < x.length; i++) {
                n++;
                sum += x[i];
                sumSq += x[i] * x[i];
                cross += x[i] * y[i];
                within += Math.abs(x[i]) < 1 ? 1 : 0;
            }
        }
        assertEquals(0, sum / n, 4 / Math.sqrt(n));
        assertEquals(1, sumSq / n, 4 * Math.sqrt(2.0 / n));
        assertEquals(0, cross / n, 4 / Math.sqrt(n));
        assertEquals(0.6827, (double) within / n, 4 * Math.sqrt(0.6827 * 0.3173 / n));
    }
}

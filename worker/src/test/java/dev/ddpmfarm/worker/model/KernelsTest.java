package dev.ddpmfarm.worker.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class KernelsTest {

    @Test
    @DisplayName("the vector exp is within 2 ulp of Math.exp from e^-87 to e^88")
    void exp() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] y = new float[lanes];
        float[] e = new float[lanes];
        for (float start = -87f; start < 88f; start += 0.01f * lanes) {
            for (int i = 0; i < lanes; i++) {
                y[i] = Math.min(88f, start + 0.01f * i);
            }
            Kernels.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, y, 0)).intoArray(e, 0);
            for (int i = 0; i < lanes; i++) {
                float exact = (float) Math.exp(y[i]);
                assertTrue(Math.abs(e[i] - exact) <= 2 * Math.ulp(exact), "e^" + y[i] + " = " + e[i] + ", not " + exact);
            }
        }
    }

    @Test
    @DisplayName("GroupNorm matches a double-precision reference")
    void groupNorm() {
        int n = 3;
        int c = 8;
        int groups = 4;
        int plane = 7 * 7;
        SplittableRandom random = new SplittableRandom(4);
        float[] x = new float[n * c * plane];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 3 + 5);
        }
        float[] gamma = new float[c];
        float[] beta = new float[c];
        for (int i = 0; i < c; i++) {
            gamma[i] = (float) (1 + random.nextGaussian() * 0.2);
            beta[i] = (float) random.nextGaussian();
        }
        INDArray input = Nd4j.create(x, new long[] {n, c, 7, 7}, 'c');
        float[] norm = Kernels.groupNorm(input, gamma, beta, groups, 1e-5, null).data().asFloat();
        int perGroup = c / groups * plane;
        for (int g = 0; g < n * groups; g++) {
            double mean = 0;
            double sq = 0;
            for (int i = g * perGroup; i < (g + 1) * perGroup; i++) {
                mean += x[i] / perGroup;
            }
            for (int i = g * perGroup; i < (g + 1) * perGroup; i++) {
                sq += (x[i] - mean) * (x[i] - mean) / perGroup;
            }
            for (int i = g * perGroup; i < (g + 1) * perGroup; i++) {
                int channel = i / plane % c;
                double expected = (x[i] - mean) / Math.sqrt(sq + 1e-5) * gamma[channel] + beta[channel];
                assertEquals(expected, norm[i], 1e-5, "element " + i);
            }
        }
    }

    @Test
    @DisplayName("SiLU gives an element the same bits wherever it sits: in a vector's body, in a masked tail, in any array length")
    void siluIsPositionIndependent() {
        float[] values = new float[67];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 4);
        }
        float[] whole = Kernels.silu(Nd4j.create(values, new long[] {values.length}, 'c')).data().asFloat();
        for (int length : new int[] {1, 3, 13}) {
            for (int from = 0; from + length <= values.length; from += 11) {
                float[] part = java.util.Arrays.copyOfRange(values, from, from + length);
                float[] y = Kernels.silu(Nd4j.create(part, new long[] {length}, 'c')).data().asFloat();
                assertArrayEquals(java.util.Arrays.copyOfRange(whole, from, from + length), y);
            }
        }
    }
}

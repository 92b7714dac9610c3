package dev.ddpmfarm.worker.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.worker.model.Denoiser;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AnalyticDenoiserTest {
    private static final int N = 2000;

    @Test
    @DisplayName("the analytic ε is E[ε | x_t]: its squared error is the closed form ᾱ s²/v_t and its residual is uncorrelated with x_t")
    void optimalEpsilon() {
        AnalyticDenoiser denoiser = GaussianData.denoiser();
        double[] alphaBar = GaussianData.alphaBar();
        for (int t : new int[] {5, 120, 600}) {
            float[] xt = new float[N * GaussianData.DIMS];
            float[] eps = new float[xt.length];
            for (int i = 0; i < N; i++) {
                float[] z = KeyedNoise.gaussian(1, i, t, GaussianData.DIMS);
                float[] e = KeyedNoise.gaussian(2, i, t, GaussianData.DIMS);
                for (int j = 0; j < GaussianData.DIMS; j++) {
                    double x0 = GaussianData.MEAN[j] + GaussianData.STD * z[j];
                    eps[i * GaussianData.DIMS + j] = e[j];
                    xt[i * GaussianData.DIMS + j] = (float) (Math.sqrt(alphaBar[t]) * x0 + Math.sqrt(1 - alphaBar[t]) * e[j]);
                }
            }
            int[] ts = new int[N];
            Arrays.fill(ts, t);
            int[] classes = new int[N];
            Arrays.fill(classes, Denoiser.NO_CLASS);
            float[] pred = Tensors.flat(denoiser.predictEps(Tensors.batch(xt, N, GaussianData.SHAPE), ts, classes));
            double v = alphaBar[t] * GaussianData.STD * GaussianData.STD + 1 - alphaBar[t];
            double expected = alphaBar[t] * GaussianData.STD * GaussianData.STD / v;
            double mse = 0;
            double residualTimesX = 0;
            double residualTimesXSquared = 0;
            for (int i = 0; i < xt.length; i++) {
                double residual = eps[i] - pred[i];
                mse += residual * residual;
                double centred = xt[i] - Math.sqrt(alphaBar[t]) * GaussianData.MEAN[i % GaussianData.DIMS];
                residualTimesX += residual * centred;
                residualTimesXSquared += Math.pow(residual * centred, 2);
            }
            mse /= xt.length;
            residualTimesX /= xt.length;
            double orthogonalitySe = Math.sqrt(residualTimesXSquared / xt.length / xt.length);
            assertEquals(expected, mse, 4 * expected * Math.sqrt(2.0 / xt.length), "t=" + t);
            assertEquals(0, residualTimesX, 4 * orthogonalitySe, "the residual is uncorrelated with x_t, t=" + t);
        }
    }

    @Test
    @DisplayName("with classes, a label selects its Gaussian and no label gives the mixture's posterior-weighted ε")
    void classes() {
        double[][] means = {new double[16], new double[16]};
        Arrays.fill(means[0], -0.6);
        Arrays.fill(means[1], 0.6);
        AnalyticDenoiser mixture = AnalyticDenoiser.classConditional(GaussianData.PROCESS, GaussianData.SHAPE, means, 0.2);
        AnalyticDenoiser first = AnalyticDenoiser.gaussian(GaussianData.PROCESS, GaussianData.SHAPE, means[0], 0.2);
        assertEquals(2, mixture.numClasses());
        assertEquals(0, first.numClasses());
        INDArray near0 = Nd4j.valueArrayOf(new long[] {1, 1, 4, 4}, -0.58f);
        int[] t = {10};
        assertArrayEquals(Tensors.flat(first.predictEps(near0, t, new int[] {Denoiser.NO_CLASS})),
                Tensors.flat(mixture.predictEps(near0, t, new int[] {0})), 0f);
        assertArrayEquals(Tensors.flat(first.predictEps(near0, t, new int[] {0})),
                Tensors.flat(mixture.predictEps(near0, t, new int[] {Denoiser.NO_CLASS})), 1e-6f,
                "close to class 0 the mixture's ε is class 0's");
        INDArray middle = Nd4j.zeros(DataType.FLOAT, 1, 1, 4, 4);
        float[] mid = Tensors.flat(mixture.predictEps(middle, new int[] {999}, new int[] {Denoiser.NO_CLASS}));
        float[] c0 = Tensors.flat(mixture.predictEps(middle, new int[] {999}, new int[] {0}));
        float[] c1 = Tensors.flat(mixture.predictEps(middle, new int[] {999}, new int[] {1}));
        assertEquals((c0[3] + c1[3]) / 2, mid[3], 1e-7, "half way between the classes both weigh the same");
        assertThrows(IllegalArgumentException.class, () -> mixture.predictEps(middle, new int[] {5}, new int[] {2}));
    }
}

package dev.ddpmfarm.worker.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.diffusion.VariationalBound;
import dev.ddpmfarm.common.wire.RateDistortion;
import dev.ddpmfarm.common.wire.TimestepSelection;
import dev.ddpmfarm.worker.eval.BoundEvaluator;
import dev.ddpmfarm.worker.model.Denoiser;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The KL terms of the variational bound against their exact value for Gaussian data. With the Bayes-optimal
 * denoiser, x̂_0(x_t) = μ + k_t (x_t − √ᾱ_t μ) with k_t = √ᾱ_t s²/v_t, so for a given x_0 the expected squared error
 * of x̂_0 over x_t ~ q(x_t | x_0) is (1 − k_t√ᾱ_t)² (x_0 − μ)² + k_t² (1 − ᾱ_t), and the expected KL term is
 * ½ (−1 + log σ_t² − log β̃_t + β̃_t/σ_t² + c_t² E(x_0 − x̂_0)²/σ_t²) per dimension, c_t being the x_0 coefficient of
 * the posterior mean. The Monte-Carlo sum over all steps of the production terms must match the sum of these.
 */
class AnalyticBoundTest {
    private static final int N = 256;

    @ParameterizedTest(name = "{0}")
    @EnumSource(VarianceType.class)
    @DisplayName("L_T + Σ L_{t-1} of the analytic denoiser matches the exact expected value for Gaussian data")
    void klSumMatchesClosedForm(VarianceType variance) {
        GaussianDiffusion process = GaussianData.PROCESS;
        VariationalBound bound = new VariationalBound(process, variance);
        Denoiser denoiser = GaussianData.denoiser();
        int dims = GaussianData.DIMS;
        double s2 = GaussianData.STD * GaussianData.STD;
        float[][] x0 = gaussianImages();
        double[] alphaBar = GaussianData.alphaBar();
        double measured = 0;
        double measuredVariance = 0;
        double exact = exactPriorBits(x0, alphaBar);
        for (int i = 0; i < N; i++) {
            measured += bound.priorBitsPerDim(x0[i]) / N;
        }
        int[] ts = new int[N];
        int[] classes = new int[N];
        Arrays.fill(classes, Denoiser.NO_CLASS);
        for (int t = 1; t < 1000; t++) {
            float[] xt = new float[N * dims];
            for (int i = 0; i < N; i++) {
                float[] eps = KeyedNoise.gaussian(12, i, t, dims);
                System.arraycopy(process.qSample(x0[i], t, eps), 0, xt, i * dims, dims);
            }
            Arrays.fill(ts, t);
            float[] eps = Tensors.flat(denoiser.predictEps(Tensors.batch(xt, N, GaussianData.SHAPE), ts, classes));
            double sum = 0;
            double sumSq = 0;
            for (int i = 0; i < N; i++) {
                float[] xti = Arrays.copyOfRange(xt, i * dims, (i + 1) * dims);
                float[] pred = process.predictXStartFromEps(xti, t, Arrays.copyOfRange(eps, i * dims, (i + 1) * dims), false);
                double term = bound.klBitsPerDim(t, x0[i], xti, pred);
                sum += term;
                sumSq += term * term;
            }
            measured += sum / N;
            measuredVariance += (sumSq / N - Math.pow(sum / N, 2)) / (N - 1);
            exact += expectedKlBits(t, alphaBar, x0, s2, variance);
        }
        double se = Math.sqrt(measuredVariance);
        assertEquals(exact, measured, 4 * se + 1e-6, variance + ": exact " + exact + " bits/dim, measured " + measured
                + " ± " + se);
    }

    @Test
    @DisplayName("rate-distortion of the analytic denoiser: the rate before the decoder and the distortion at each t "
            + "match their closed forms")
    void rateDistortionMatchesClosedForm() {
        float[][] x0 = gaussianImages();
        double[] alphaBar = GaussianData.alphaBar();
        double s2 = GaussianData.STD * GaussianData.STD;
        BoundEvaluator.Result r = new BoundEvaluator(GaussianData.denoiser(), GaussianData.PROCESS, VarianceType.BETA,
                false).evaluate(x0, 12, N, t -> { });
        RateDistortion rd = RateDistortion.of(r.priorBitsPerDim(), r.termBitsPerDim(), r.rmse255(), N,
                TimestepSelection.ALL);
        double exactRate = exactPriorBits(x0, alphaBar);
        for (int t = 1; t < 1000; t++) {
            exactRate += expectedKlBits(t, alphaBar, x0, s2, VarianceType.BETA);
        }
        RateDistortion.Row last = rd.rows().get(rd.rows().size() - 1);
        assertEquals(1, last.t());
        assertEquals(exactRate, last.rateBitsPerDim(), 0.01 * exactRate, "rate once x_1 is received");
        assertEquals(rd.nllBitsPerDim(), last.rateBitsPerDim() + rd.decoderBitsPerDim(), 1e-9);
        for (RateDistortion.Row row : rd.rows()) {
            if (row.t() % 111 != 1) {
                continue;
            }
            double a = alphaBar[row.t() - 1];
            double k = Math.sqrt(a) * s2 / (a * s2 + 1 - a);
            double error = 0;
            for (float[] x : x0) {
                for (int j = 0; j < x.length; j++) {
                    double d = x[j] - GaussianData.MEAN[j];
                    error += Math.pow(1 - k * Math.sqrt(a), 2) * d * d + k * k * (1 - a);
                }
            }
            double exactRmse = 127.5 * Math.sqrt(error / (x0.length * x0[0].length));
            assertEquals(exactRmse, row.rmse255(), 0.05 * exactRmse, "distortion at t = " + row.t());
        }
    }

    /** N draws of the Gaussian data. */
    private static float[][] gaussianImages() {
        int dims = GaussianData.DIMS;
        float[][] x0 = new float[N][dims];
        for (int i = 0; i < N; i++) {
            float[] z = KeyedNoise.gaussian(11, i, 0, dims);
            for (int j = 0; j < dims; j++) {
                x0[i][j] = (float) (GaussianData.MEAN[j] + GaussianData.STD * z[j]);
            }
        }
        return x0;
    }

    /** L_T = KL(q(x_T | x_0) ‖ N(0, I)) in bits per dimension, averaged over the given x_0. */
    private static double exactPriorBits(float[][] x0, double[] alphaBar) {
        double a = alphaBar[999];
        double total = 0;
        for (float[] x : x0) {
            for (float v : x) {
                total += 0.5 * (-1 - Math.log(1 - a) + (1 - a) + a * v * v);
            }
        }
        return total / Math.log(2) / (x0.length * x0[0].length);
    }

    /** The expected KL term of step t (0-based) in bits per dimension, averaged over the given x_0. */
    private static double expectedKlBits(int t, double[] alphaBar, float[][] x0, double s2, VarianceType variance) {
        double a = alphaBar[t];
        double aPrev = alphaBar[t - 1];
        double beta = 1 - a / aPrev;
        double posteriorVariance = beta * (1 - aPrev) / (1 - a);
        double modelVariance = variance == VarianceType.BETA ? beta : posteriorVariance;
        double c = Math.sqrt(aPrev) * beta / (1 - a);
        double k = Math.sqrt(a) * s2 / (a * s2 + 1 - a);
        double total = 0;
        for (float[] x : x0) {
            for (int j = 0; j < x.length; j++) {
                double d = x[j] - GaussianData.MEAN[j];
                double error = Math.pow(1 - k * Math.sqrt(a), 2) * d * d + k * k * (1 - a);
                total += 0.5 * (-1 + Math.log(modelVariance / posteriorVariance) + posteriorVariance / modelVariance
                        + c * c * error / modelVariance);
            }
        }
        return total / (x0.length * x0[0].length) / Math.log(2);
    }
}

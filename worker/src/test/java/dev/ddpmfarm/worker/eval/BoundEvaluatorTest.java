package dev.ddpmfarm.worker.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Likelihood;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.sampling.AnalyticDenoiser;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BoundEvaluatorTest {
    private static final double MEAN = 0.1;
    private static final double STD = 0.2;

    @Test
    @DisplayName("with the optimal denoiser on Gaussian data the prior and KL terms match their closed forms")
    void gaussianClosedForm() {
        GaussianDiffusion process = GaussianDiffusion.of(BetaSchedule.LINEAR, 200);
        int[] shape = {1, 4, 4};
        AnalyticDenoiser denoiser = AnalyticDenoiser.gaussian(process, shape, filled(16, MEAN), STD);
        SplittableRandom random = new SplittableRandom(5);
        float[][] x0 = new float[300][16];
        for (float[] row : x0) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (MEAN + STD * random.nextGaussian());
            }
        }
        for (VarianceType variance : VarianceType.values()) {
            BoundEvaluator.Result r = new BoundEvaluator(denoiser, process, variance).evaluate(x0, 9, 100, t -> { });
            double klSum = 0;
            double exactKlSum = 0;
            for (int t = 1; t < process.timesteps(); t++) {
                klSum += r.termBitsPerDim()[t];
                exactKlSum += exactKlBitsPerDim(process, variance, t);
            }
            assertEquals(exactKlSum, klSum, 0.02 * exactKlSum, variance + ": Σ KL terms");
            assertEquals(exactPriorBitsPerDim(process), r.priorBitsPerDim(), 0.05 * exactPriorBitsPerDim(process),
                    "prior");
            assertTrue(r.rmse255()[1] < r.rmse255()[100] && r.rmse255()[100] < r.rmse255()[199],
                    "distortion grows with t");
        }
    }

    @Test
    @DisplayName("a run resumed from its saved state by a run of another batch size sums exactly what one run does")
    void resumesWithTheSavedBatch() {
        GaussianDiffusion process = GaussianDiffusion.of(BetaSchedule.LINEAR, 50);
        AnalyticDenoiser denoiser = AnalyticDenoiser.gaussian(process, new int[] {1, 2, 2}, filled(4, MEAN), STD);
        BoundEvaluator evaluator = new BoundEvaluator(denoiser, process, VarianceType.BETA);
        float[][] x0 = new float[7][4];
        SplittableRandom random = new SplittableRandom(3);
        for (float[] row : x0) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (MEAN + STD * random.nextGaussian());
            }
        }
        BoundEvaluator.Result whole = evaluator.evaluate(x0, 4, 3, t -> { });

        BoundEvaluator.Run first = evaluator.start(x0, 4, 3);
        for (int i = 0; i < 70; i++) {
            first.step();
        }
        BoundEvaluator.Run.State saved = Wire.fromBytes(Wire.toBytes(first.state()), BoundEvaluator.Run.State.class);
        assertEquals(29, saved.nextT(), "stopped inside the second batch");
        BoundEvaluator.Run resumed = evaluator.start(x0, 4, 5);
        resumed.resume(saved);
        assertEquals(70, resumed.passesDone());
        while (!resumed.done()) {
            resumed.step();
        }
        assertArrayEquals(whole.termBitsPerDim(), resumed.result().termBitsPerDim());
        assertArrayEquals(whole.rmse255(), resumed.result().rmse255());
        assertEquals(whole.priorBitsPerDim(), resumed.result().priorBitsPerDim());

        BoundEvaluator.Run.State older = Wire.fromJson("{\"nextImage\":3,\"nextT\":29,\"prior\":0.5,"
                + "\"terms\":[],\"squaredError\":[]}", BoundEvaluator.Run.State.class);
        assertNull(older.batch(), "a state saved before the batch was recorded");
    }

    /** E KL(q(x_{t-1}|x_t,x_0) ‖ N(μ̃(x_t, E[x_0|x_t]), σ²_t)) per dimension, in bits: coef1²·Var(x_0|x_t) sets the mean part. */
    private static double exactKlBitsPerDim(GaussianDiffusion p, VarianceType variance, int t) {
        double ab = p.alphaBar(t);
        double posteriorOfX0 = STD * STD * (1 - ab) / (ab * STD * STD + 1 - ab);
        double coef = p.posteriorMeanCoef1(t);
        double trueLogVar = p.posteriorLogVarianceClipped(t);
        double modelLogVar = p.modelLogVariance(variance, t);
        double nats = Likelihood.normalKl(0, trueLogVar, 0, modelLogVar)
                + 0.5 * coef * coef * posteriorOfX0 * Math.exp(-modelLogVar);
        return Likelihood.bitsPerDim(nats, 1);
    }

    private static double exactPriorBitsPerDim(GaussianDiffusion p) {
        double ab = p.alphaBar(p.timesteps() - 1);
        double secondMoment = ab * (MEAN * MEAN + STD * STD);
        return Likelihood.bitsPerDim(0.5 * (-Math.log(1 - ab) + (1 - ab) + secondMoment - 1), 1);
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}

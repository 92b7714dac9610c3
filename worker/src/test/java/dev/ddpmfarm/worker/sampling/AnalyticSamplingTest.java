package dev.ddpmfarm.worker.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Respacing;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.worker.model.Denoiser;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Samplers against exact answers: with the Bayes-optimal denoiser of Gaussian data every unclipped step is an affine
 * map plus Gaussian noise, so the distribution a sampler ends in is Gaussian with a mean and variance that a scalar
 * recursion gives exactly ({@link #exactChain}, written from the definitions independently of the production code).
 * The samples must match that, and the data, within Monte-Carlo error — except where the discretisation itself
 * is measurably off (DDIM with 50 steps), where they must match the exact chain.
 */
class AnalyticSamplingTest {
    private static final int N = 1024;
    private static final double S2 = GaussianData.STD * GaussianData.STD;

    /** Pooled per-pixel mean error and variance of N samples, with their Monte-Carlo standard errors. */
    private record Moments(double meanError, double variance, int n) {
        double meanSe() {
            return GaussianData.STD / Math.sqrt(n);
        }

        double varianceSe(double variance) {
            return variance * Math.sqrt(2.0 / n);
        }
    }

    private static Moments sample(Scheduler scheduler) {
        List<SampleState> states = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            states.add(SampleState.start("analytic", i, 7, scheduler, Denoiser.NO_CLASS, Guidance.NONE, GaussianData.DIMS));
        }
        List<SampleState> done = new BatchSampler(GaussianData.denoiser()).run(states, N, StepListener.NONE);
        double[] mean = new double[GaussianData.DIMS];
        for (SampleState s : done) {
            for (int j = 0; j < GaussianData.DIMS; j++) {
                mean[j] += s.x()[j] / N;
            }
        }
        double error = 0;
        double squares = 0;
        for (int j = 0; j < GaussianData.DIMS; j++) {
            error += (mean[j] - GaussianData.MEAN[j]) / GaussianData.DIMS;
            for (SampleState s : done) {
                squares += Math.pow(s.x()[j] - mean[j], 2);
            }
        }
        return new Moments(error, squares / (GaussianData.DIMS * (N - 1)), GaussianData.DIMS * N);
    }

    /**
     * The exact variance of the final sample and the factor g with final mean g·μ, for a sampler over the kept
     * steps: Bayes' rule for the posterior, E[ε | x_t] for the denoiser, propagated from x_T ~ N(0, 1).
     */
    static double[] exactChain(int[] kept, Sampler sampler, VarianceType variance) {
        double[] alphaBar = GaussianData.alphaBar();
        double mean = 0;
        double var = 1;
        for (int k = kept.length - 1; k >= 0; k--) {
            double a = alphaBar[kept[k]];
            double aPrev = k == 0 ? 1 : alphaBar[kept[k - 1]];
            double v = a * S2 + 1 - a;
            // ε̂ = e1 x + e0 μ and x̂_0 = (x − √(1−ā) ε̂)/√ā = h1 x + h0 μ, for unit μ
            double e1 = Math.sqrt(1 - a) / v;
            double e0 = -Math.sqrt(1 - a) * Math.sqrt(a) / v;
            double h1 = (1 - Math.sqrt(1 - a) * e1) / Math.sqrt(a);
            double h0 = -Math.sqrt(1 - a) * e0 / Math.sqrt(a);
            double a1;
            double a0;
            double noise;
            if (sampler == Sampler.DDIM) {
                a1 = Math.sqrt(aPrev) * h1 + Math.sqrt(1 - aPrev) * e1;
                a0 = Math.sqrt(aPrev) * h0 + Math.sqrt(1 - aPrev) * e0;
                noise = 0;
            } else if (k == 0) {
                a1 = h1;
                a0 = h0;
                noise = 0;
            } else {
                double alpha = a / aPrev;
                double beta = 1 - alpha;
                double precision = 1 / (1 - aPrev) + alpha / beta;
                double cx0 = Math.sqrt(aPrev) / (1 - aPrev) / precision;
                double cxt = Math.sqrt(alpha) / beta / precision;
                a1 = cx0 * h1 + cxt;
                a0 = cx0 * h0;
                noise = variance == VarianceType.BETA ? beta : 1 / precision;
            }
            mean = a1 * mean + a0;
            var = a1 * a1 * var + noise;
        }
        return new double[] {var, mean};
    }

    private static Scheduler unclipped(Sampler sampler, int steps, VarianceType variance) {
        Scheduler clipped = Scheduler.create(GaussianData.PROCESS, sampler, steps, variance, 0);
        return new Scheduler(clipped.process(), sampler, variance, 0, false);
    }

    @Test
    @DisplayName("DDPM with 1000 steps and σ²=β_t ends in the data's mean and variance within Monte-Carlo error")
    void ddpmBeta() {
        check(Sampler.DDPM, 1000, VarianceType.BETA, true);
    }

    @Test
    @DisplayName("DDPM with 1000 steps and σ²=β̃_t ends in the data's mean and variance within Monte-Carlo error")
    void ddpmPosterior() {
        check(Sampler.DDPM, 1000, VarianceType.POSTERIOR, true);
    }

    @Test
    @DisplayName("DDIM (η=0) with 50 steps ends in the data's mean and in its exact chain's variance, 11% below the data's")
    void ddim50() {
        double[] chain = exactChain(Respacing.evenly(1000, 50), Sampler.DDIM, VarianceType.BETA);
        assertEquals(0.89, chain[0] / S2, 0.01, "DDIM-50's discretisation shrinks the variance of N(μ, 0.25) by 11%");
        check(Sampler.DDIM, 50, VarianceType.BETA, false);
    }

    @Test
    @DisplayName("DDIM (η=0) with all 1000 steps ends in the data's mean and variance within Monte-Carlo error")
    void ddim1000() {
        check(Sampler.DDIM, 1000, VarianceType.BETA, true);
    }

    private static void check(Sampler sampler, int steps, VarianceType variance, boolean matchesData) {
        double[] chain = exactChain(Respacing.evenly(1000, steps), sampler, variance);
        Moments m = sample(unclipped(sampler, steps, variance));
        String what = sampler + "-" + steps + " " + variance + ": variance " + m.variance() + ", exact chain " + chain[0]
                + ", data " + S2 + "; mean error " + m.meanError();
        assertEquals(0, m.meanError(), 4 * m.meanSe(), what);
        assertEquals(1, chain[1], 0.005, what);
        assertEquals(chain[0], m.variance(), 4 * m.varianceSe(chain[0]), what);
        if (matchesData) {
            assertEquals(S2, m.variance(), 4 * m.varianceSe(S2), what);
        } else {
            assertTrue(Math.abs(m.variance() - S2) > 4 * m.varianceSe(S2), what);
        }
    }
}

package dev.ddpmfarm.worker.sampling;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;

/**
 * Test data x_0 ~ N(μ, s² I) on 4×4 single-channel images, with per-pixel means spread over [-0.2, 0.2], and an
 * independent recomputation of the linear schedule's ᾱ (not through {@link GaussianDiffusion}).
 */
final class GaussianData {
    static final int[] SHAPE = {1, 4, 4};
    static final int DIMS = 16;
    static final double STD = 0.5;
    static final double[] MEAN = new double[DIMS];
    static final GaussianDiffusion PROCESS = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);

    static {
        for (int j = 0; j < DIMS; j++) {
            MEAN[j] = -0.2 + 0.4 * j / (DIMS - 1);
        }
    }

    private GaussianData() {
    }

    static AnalyticDenoiser denoiser() {
        return AnalyticDenoiser.gaussian(PROCESS, SHAPE, MEAN, STD);
    }

    /** ᾱ of the paper's linear schedule, T = 1000, computed from its definition. */
    static double[] alphaBar() {
        double[] a = new double[1000];
        double product = 1;
        for (int t = 0; t < 1000; t++) {
            product *= 1 - (1e-4 + (0.02 - 1e-4) * t / 999.0);
            a[t] = product;
        }
        return a;
    }
}

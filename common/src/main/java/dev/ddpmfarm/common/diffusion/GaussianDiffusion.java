package dev.ddpmfarm.common.diffusion;

import java.util.Arrays;

/**
 * The diffusion process of Ho et al. (2020): the forward process q, its posterior q(x_{t-1} | x_t, x_0) and the
 * coefficients that the reverse process and the variational bound need, computed once in double precision from
 * the betas. Free of any tensor library: the samplers work on one image at a time ({@code float[]} in
 * {@code [C, H, W]} order) and read the coefficients per timestep.
 *
 * <p>Timesteps are 0-based as in the paper's code: index {@code t} holds the paper's step t+1, so {@code t = 0} is
 * the last denoising step (the one that adds no noise) and {@code t = T-1} the first.
 *
 * <p>A process may be a <em>respacing</em> of another ({@link #respace}): it keeps a subsequence of the original
 * steps, derives new betas from the kept ᾱ so that q(x_t | x_0) is unchanged at every kept step, and maps each
 * of its timesteps back to the original one through {@link #modelTimestep}, which is what the network was trained
 * on.
 */
public final class GaussianDiffusion {
    private final double[] betas;
    private final double[] alphas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final int[] timestepMap;
    private final int originalTimesteps;

    /** The process with these betas (index 0 holding β_1), not a respacing of another. */
    public GaussianDiffusion(double[] betas) {
        this(betas, identity(betas.length), betas.length);
    }

    private GaussianDiffusion(double[] betas, int[] timestepMap, int originalTimesteps) {
        int n = betas.length;
        if (n == 0) {
            throw new IllegalArgumentException("a diffusion process needs at least one step");
        }
        for (double b : betas) {
            if (!(b > 0 && b <= 1)) {
                throw new IllegalArgumentException("every beta must lie in (0, 1], got " + b);
            }
        }
        this.betas = betas.clone();
        this.timestepMap = timestepMap;
        this.originalTimesteps = originalTimesteps;
        alphas = new double[n];
        alphasCumprod = new double[n];
        alphasCumprodPrev = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        double product = 1;
        for (int t = 0; t < n; t++) {
            alphas[t] = 1 - betas[t];
            alphasCumprodPrev[t] = product;
            product *= alphas[t];
            alphasCumprod[t] = product;
            sqrtAlphasCumprod[t] = Math.sqrt(product);
            sqrtOneMinusAlphasCumprod[t] = Math.sqrt(1 - product);
            sqrtRecipAlphasCumprod[t] = Math.sqrt(1 / product);
            sqrtRecipm1AlphasCumprod[t] = Math.sqrt(1 / product - 1);
            posteriorVariance[t] = betas[t] * (1 - alphasCumprodPrev[t]) / (1 - product);
            posteriorMeanCoef1[t] = betas[t] * Math.sqrt(alphasCumprodPrev[t]) / (1 - product);
            posteriorMeanCoef2[t] = (1 - alphasCumprodPrev[t]) * Math.sqrt(alphas[t]) / (1 - product);
        }
        for (int t = 0; t < n; t++) {
            posteriorLogVarianceClipped[t] = t == 0 ? Math.log(firstStepVariance()) : Math.log(posteriorVariance[t]);
        }
    }

    /** The process of {@code timesteps} steps with a named schedule. */
    public static GaussianDiffusion of(BetaSchedule schedule, int timesteps) {
        return new GaussianDiffusion(schedule.betas(timesteps));
    }

    /**
     * The process that keeps only the steps {@code kept} (strictly increasing indices into this process): its
     * betas are {@code 1 − ᾱ_k / ᾱ_{previous kept}}, so ᾱ, and with it q(x_t | x_0), is unchanged at every kept step.
     * Its {@link #modelTimestep} maps back to this process's original timesteps. Keeping every step gives a
     * process equal to this one.
     */
    public GaussianDiffusion respace(int[] kept) {
        if (kept.length == 0) {
            throw new IllegalArgumentException("a respacing must keep at least one step");
        }
        double[] newBetas = new double[kept.length];
        int[] map = new int[kept.length];
        double last = 1;
        for (int k = 0; k < kept.length; k++) {
            int t = kept[k];
            if (t < 0 || t >= timesteps() || (k > 0 && t <= kept[k - 1])) {
                throw new IllegalArgumentException("kept steps must be strictly increasing within 0.." + (timesteps() - 1)
                        + ", got " + Arrays.toString(kept));
            }
            newBetas[k] = 1 - alphasCumprod[t] / last;
            last = alphasCumprod[t];
            map[k] = timestepMap[t];
        }
        return new GaussianDiffusion(newBetas, map, originalTimesteps);
    }

    /** Number of steps of this process (T, or S after respacing). */
    public int timesteps() {
        return betas.length;
    }

    /** T of the process the model was trained on (equal to {@link #timesteps()} unless respaced). */
    public int originalTimesteps() {
        return originalTimesteps;
    }

    /** Whether this process skips steps of the original one. */
    public boolean respaced() {
        return timesteps() != originalTimesteps;
    }

    /** The original (model) timestep that step {@code t} of this process stands for. */
    public int modelTimestep(int t) {
        return timestepMap[t];
    }

    /** β_t. */
    public double beta(int t) {
        return betas[t];
    }

    /** α_t = 1 − β_t. */
    public double alpha(int t) {
        return alphas[t];
    }

    /** ᾱ_t = ∏_{s ≤ t} α_s. */
    public double alphaBar(int t) {
        return alphasCumprod[t];
    }

    /** ᾱ_{t-1}, with ᾱ before the first step equal to 1. */
    public double alphaBarPrev(int t) {
        return alphasCumprodPrev[t];
    }

    /** √ᾱ_t, the signal scale of q(x_t | x_0) (Eq. 4). */
    public double sqrtAlphaBar(int t) {
        return sqrtAlphasCumprod[t];
    }

    /** √(1 − ᾱ_t), the noise scale of q(x_t | x_0) (Eq. 4). */
    public double sqrtOneMinusAlphaBar(int t) {
        return sqrtOneMinusAlphasCumprod[t];
    }

    /** √(1/ᾱ_t). */
    public double sqrtRecipAlphaBar(int t) {
        return sqrtRecipAlphasCumprod[t];
    }

    /** √(1/ᾱ_t − 1). */
    public double sqrtRecipm1AlphaBar(int t) {
        return sqrtRecipm1AlphasCumprod[t];
    }

    /** β̃_t = (1 − ᾱ_{t-1})/(1 − ᾱ_t) β_t, the variance of q(x_{t-1} | x_t, x_0) (Eq. 7); 0 at t = 0. */
    public double posteriorVariance(int t) {
        return posteriorVariance[t];
    }

    /**
     * log β̃_t, with β̃ at t = 0 (which is 0) replaced by β̃ of the next step as in the paper's code; a one-step
     * process has no next step and uses β_0.
     */
    public double posteriorLogVarianceClipped(int t) {
        return posteriorLogVarianceClipped[t];
    }

    /** The coefficient of x_0 in the posterior mean μ̃_t (Eq. 7): √ᾱ_{t-1} β_t / (1 − ᾱ_t). */
    public double posteriorMeanCoef1(int t) {
        return posteriorMeanCoef1[t];
    }

    /** The coefficient of x_t in the posterior mean μ̃_t (Eq. 7): √α_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t). */
    public double posteriorMeanCoef2(int t) {
        return posteriorMeanCoef2[t];
    }

    /** β_1 … β_T of this process (a copy). */
    public double[] betas() {
        return betas.clone();
    }

    /** ᾱ_1 … ᾱ_T of this process (a copy). */
    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /**
     * log σ_t² of the reverse step for a {@link VarianceType}: log β̃_t (clipped at t = 0) for
     * {@link VarianceType#POSTERIOR}; log β_t for {@link VarianceType#BETA}, except log β̃ of the next step at t = 0
     * (the paper code's convention, which only matters for the decoder L_0: the last step adds no noise).
     */
    public double modelLogVariance(VarianceType variance, int t) {
        return switch (variance) {
            case POSTERIOR -> posteriorLogVarianceClipped[t];
            case BETA -> t == 0 ? posteriorLogVarianceClipped[0] : Math.log(betas[t]);
        };
    }

    /**
     * σ_t(η) of DDIM (Song et al., Eq. 16): η √((1 − ᾱ_{t-1})/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_{t-1}); η = 1 gives √β̃_t,
     * η = 0 the deterministic sampler.
     */
    public double ddimSigma(int t, double eta) {
        return eta * Math.sqrt((1 - alphasCumprodPrev[t]) / (1 - alphasCumprod[t]))
                * Math.sqrt(1 - alphasCumprod[t] / alphasCumprodPrev[t]);
    }

    /** x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, a draw from q(x_t | x_0) (Eq. 4) for the given noise ε. */
    public float[] qSample(float[] x0, int t, float[] noise) {
        requireSameLength(x0, noise);
        float[] out = new float[x0.length];
        double a = sqrtAlphasCumprod[t];
        double b = sqrtOneMinusAlphasCumprod[t];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (a * x0[i] + b * noise[i]);
        }
        return out;
    }

    /** The mean μ̃_t(x_t, x_0) of the posterior q(x_{t-1} | x_t, x_0) (Eq. 7). */
    public float[] qPosteriorMean(float[] x0, float[] xt, int t) {
        requireSameLength(x0, xt);
        float[] out = new float[x0.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) posteriorMean(x0[i], xt[i], t);
        }
        return out;
    }

    /** One element of μ̃_t (Eq. 7). */
    double posteriorMean(double x0, double xt, int t) {
        return posteriorMeanCoef1[t] * x0 + posteriorMeanCoef2[t] * xt;
    }

    /**
     * x̂_0 = (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t (Eq. 4 solved for x_0, as in Eq. 15), optionally clipped to the data range
     * [-1, 1].
     */
    public float[] predictXStartFromEps(float[] xt, int t, float[] eps, boolean clip) {
        requireSameLength(xt, eps);
        float[] out = new float[xt.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) xStartFromEps(xt[i], eps[i], t, clip);
        }
        return out;
    }

    /** One element of x̂_0. */
    double xStartFromEps(double xt, double eps, int t, boolean clip) {
        double x0 = sqrtRecipAlphasCumprod[t] * xt - sqrtRecipm1AlphasCumprod[t] * eps;
        return clip ? Math.max(-1, Math.min(1, x0)) : x0;
    }

    /** The ε that x̂_0 implies: (x_t/√ᾱ_t − x̂_0)/√(1/ᾱ_t − 1). */
    double epsFromXStart(double xt, double x0, int t) {
        return (sqrtRecipAlphasCumprod[t] * xt - x0) / sqrtRecipm1AlphasCumprod[t];
    }

    private double firstStepVariance() {
        return posteriorVariance.length > 1 ? posteriorVariance[1] : betas[0];
    }

    private static int[] identity(int n) {
        int[] map = new int[n];
        Arrays.setAll(map, i -> i);
        return map;
    }

    static void requireSameLength(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("arrays differ in length: " + a.length + " and " + b.length);
        }
    }
}

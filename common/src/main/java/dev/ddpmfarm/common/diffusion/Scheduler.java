package dev.ddpmfarm.common.diffusion;

/**
 * One reverse step x_t → x_{t-1} of a sampler over a (possibly respaced) process: what a sample needs besides the
 * model's ε prediction and its own noise. Steps are indexed by the process's own timestep {@code k}
 * ({@code steps()-1} first, 0 last); {@link #modelTimestep} gives the timestep to show the network.
 *
 * <p>DDPM is the paper's Algorithm 2 as its code runs it: x̂_0 from ε (clipped to [-1, 1]), then
 * x_{t-1} = μ̃_t(x_t, x̂_0) + σ_t z with the posterior mean of Eq. 7 — without clipping this equals Algorithm 2's
 * 1/√α_t (x_t − β_t/√(1−ᾱ_t) ε) + σ_t z. DDIM is Song et al.'s Eq. 12 with σ_t(η) of Eq. 16 and ε re-derived
 * from the clipped x̂_0. Neither adds noise at the last step.
 */
public final class Scheduler {

    /** The result of one step: x_{t-1} and the x̂_0 it was computed from (both {@code [C, H, W]}). */
    public record Step(float[] prevSample, float[] predXStart) {
    }

    private final GaussianDiffusion process;
    private final Sampler sampler;
    private final VarianceType variance;
    private final double eta;
    private final boolean clipDenoised;

    /**
     * @param process      the process to step through (a respacing of the model's, or the model's itself)
     * @param sampler      DDPM or DDIM
     * @param variance     σ_t² of DDPM steps; DDIM's σ comes from η
     * @param eta          DDIM's η ≥ 0; must be 0 for DDPM
     * @param clipDenoised whether x̂_0 is clipped to [-1, 1] before it is used (the paper's code does)
     */
    public Scheduler(GaussianDiffusion process, Sampler sampler, VarianceType variance, double eta, boolean clipDenoised) {
        if (!(eta >= 0 && Double.isFinite(eta))) {
            throw new IllegalArgumentException("eta must be a finite number >= 0, got " + eta);
        }
        if (sampler == Sampler.DDPM && eta != 0) {
            throw new IllegalArgumentException("eta applies to the ddim sampler only");
        }
        this.process = process;
        this.sampler = sampler;
        this.variance = variance;
        this.eta = eta;
        this.clipDenoised = clipDenoised;
    }

    /**
     * The sampler of a job: {@code steps} steps spread evenly over the model's process ({@link Respacing#evenly}),
     * with clipped x̂_0.
     */
    public static Scheduler create(GaussianDiffusion model, Sampler sampler, int steps, VarianceType variance, double eta) {
        GaussianDiffusion process = steps == model.timesteps() ? model
                : model.respace(Respacing.evenly(model.timesteps(), steps));
        return new Scheduler(process, sampler, variance, eta, true);
    }

    public GaussianDiffusion process() {
        return process;
    }

    public Sampler sampler() {
        return sampler;
    }

    public VarianceType variance() {
        return variance;
    }

    public double eta() {
        return eta;
    }

    /** Number of reverse steps. */
    public int steps() {
        return process.timesteps();
    }

    /** T of the model's process, which also keys the noise of x_T. */
    public int modelTimesteps() {
        return process.originalTimesteps();
    }

    /** The model timestep of step {@code k}. */
    public int modelTimestep(int k) {
        return process.modelTimestep(k);
    }

    /** Whether step {@code k} adds noise (and so needs a draw): never at the last step, nor for DDIM with σ = 0. */
    public boolean needsNoise(int k) {
        return k > 0 && (sampler == Sampler.DDPM || process.ddimSigma(k, eta) > 0);
    }

    /**
     * x_{t-1} from x_t at step {@code k}.
     *
     * @param xt    x_t, {@code [C, H, W]}
     * @param eps   the model's (guided) ε prediction for x_t
     * @param noise z ~ N(0, I) of this sample and step; may be {@code null} when {@link #needsNoise} is false
     */
    public Step step(int k, float[] xt, float[] eps, float[] noise) {
        GaussianDiffusion.requireSameLength(xt, eps);
        boolean noisy = needsNoise(k);
        if (noisy && (noise == null || noise.length != xt.length)) {
            throw new IllegalArgumentException("step " + k + " needs noise of the sample's length " + xt.length);
        }
        float[] prev = new float[xt.length];
        float[] x0 = new float[xt.length];
        if (sampler == Sampler.DDPM) {
            double std = noisy ? Math.exp(0.5 * process.modelLogVariance(variance, k)) : 0;
            for (int i = 0; i < xt.length; i++) {
                double xStart = process.xStartFromEps(xt[i], eps[i], k, clipDenoised);
                x0[i] = (float) xStart;
                prev[i] = (float) (process.posteriorMean(xStart, xt[i], k) + (noisy ? std * noise[i] : 0));
            }
        } else {
            double sigma = process.ddimSigma(k, eta);
            double signal = Math.sqrt(process.alphaBarPrev(k));
            double direction = Math.sqrt(Math.max(0, 1 - process.alphaBarPrev(k) - sigma * sigma));
            for (int i = 0; i < xt.length; i++) {
                double xStart = process.xStartFromEps(xt[i], eps[i], k, clipDenoised);
                x0[i] = (float) xStart;
                double e = process.epsFromXStart(xt[i], xStart, k);
                prev[i] = (float) (signal * xStart + direction * e + (noisy ? sigma * noise[i] : 0));
            }
        }
        return new Step(prev, x0);
    }
}

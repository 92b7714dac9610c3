package dev.ddpmfarm.common.diffusion;

/**
 * The terms of the variational bound L = L_T + Σ_{t>1} L_{t-1} + L_0 (the paper's Eq. 5) for one image, in bits per
 * dimension: the prior term L_T, the KL terms L_{t-1} between the forward posterior and the model's reverse step,
 * and the discretized Gaussian decoder L_0 (Eq. 13). The model enters through its x̂_0 prediction (from ε via
 * {@link GaussianDiffusion#predictXStartFromEps}), which fixes the reverse mean μ_θ = μ̃_t(x_t, x̂_0); the reverse
 * variance is the fixed one of a {@link VarianceType}. Rate-distortion (§4.3) sums these terms: the rate at t is
 * L_T + Σ_{s>t} L_{s-1}.
 *
 * <p>Timesteps are the process's 0-based ones: {@code t = 0} is the decoder, {@code t ≥ 1} the KL term L_t of the
 * paper's 1-based numbering minus one.
 */
public final class VariationalBound {
    private final GaussianDiffusion process;
    private final VarianceType variance;

    public VariationalBound(GaussianDiffusion process, VarianceType variance) {
        this.process = process;
        this.variance = variance;
    }

    public GaussianDiffusion process() {
        return process;
    }

    /** L_T = KL(q(x_T | x_0) ‖ N(0, I)), in bits per dimension; it has no parameter to learn. */
    public double priorBitsPerDim(float[] x0) {
        int last = process.timesteps() - 1;
        double logVar = Math.log(1 - process.alphaBar(last));
        double nats = 0;
        for (float v : x0) {
            nats += Likelihood.normalKl(process.sqrtAlphaBar(last) * v, logVar, 0, 0);
        }
        return Likelihood.bitsPerDim(nats, x0.length);
    }

    /**
     * L_{t-1} = KL(q(x_{t-1} | x_t, x_0) ‖ p_θ(x_{t-1} | x_t)) for t ≥ 1, in bits per dimension; the posterior
     * uses the clipped log-variance at every step.
     */
    public double klBitsPerDim(int t, float[] x0, float[] xt, float[] predXStart) {
        if (t < 1) {
            throw new IllegalArgumentException("the KL terms are t >= 1; t = 0 is the decoder");
        }
        requireSameLengths(x0, xt, predXStart);
        double trueLogVar = process.posteriorLogVarianceClipped(t);
        double modelLogVar = process.modelLogVariance(variance, t);
        double nats = 0;
        for (int i = 0; i < x0.length; i++) {
            nats += Likelihood.normalKl(process.posteriorMean(x0[i], xt[i], t), trueLogVar,
                    process.posteriorMean(predXStart[i], xt[i], t), modelLogVar);
        }
        return Likelihood.bitsPerDim(nats, x0.length);
    }

    /**
     * L_0 = −log p_θ(x_0 | x_1) under the discretized Gaussian decoder (Eq. 13), in bits per dimension; x_0 must
     * hold 8-bit values scaled to [-1, 1].
     */
    public double decoderBitsPerDim(float[] x0, float[] x1, float[] predXStart) {
        requireSameLengths(x0, x1, predXStart);
        double logScale = 0.5 * process.modelLogVariance(variance, 0);
        double nats = 0;
        for (int i = 0; i < x0.length; i++) {
            nats -= Likelihood.discretizedGaussianLogLikelihood(x0[i], process.posteriorMean(predXStart[i], x1[i], 0),
                    logScale);
        }
        return Likelihood.bitsPerDim(nats, x0.length);
    }

    /** The term of step t: the decoder L_0 at t = 0, the KL term otherwise (as the paper's code's vb terms). */
    public double termBitsPerDim(int t, float[] x0, float[] xt, float[] predXStart) {
        return t == 0 ? decoderBitsPerDim(x0, xt, predXStart) : klBitsPerDim(t, x0, xt, predXStart);
    }

    private static void requireSameLengths(float[] x0, float[] xt, float[] predXStart) {
        GaussianDiffusion.requireSameLength(x0, xt);
        GaussianDiffusion.requireSameLength(x0, predXStart);
    }
}

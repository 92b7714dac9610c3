package dev.ddpmfarm.worker.eval;

import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.common.diffusion.VariationalBound;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.sampling.Tensors;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The variational bound of a model on real images, term by term (the paper's Eq. 5, as improved-diffusion's
 * {@code calc_bpd_loop}): for every timestep t, x_t is drawn from q(x_t | x_0) with noise keyed by (seed, image, t),
 * the model predicts x̂_0 (clipped) in one forward pass over a batch of images, and the KL term L_t (the decoder L_0
 * at t = 0) is averaged over the images; so is the distortion ‖x̂_0 − x_0‖ as RMSE on the [0, 255] scale. The test
 * NLL and the rate-distortion curve of §4.3 both come from these sums.
 */
public final class BoundEvaluator {
    private final Denoiser model;
    private final VariationalBound bound;

    public BoundEvaluator(Denoiser model, GaussianDiffusion process, VarianceType variance) {
        if (process.timesteps() != model.timesteps()) {
            throw new IllegalArgumentException("the bound needs the model's full " + model.timesteps()
                    + "-step process, not " + process.timesteps() + " steps");
        }
        this.model = model;
        this.bound = new VariationalBound(process, variance);
    }

    /**
     * Mean terms over {@code images} images.
     *
     * @param priorBitsPerDim L_T
     * @param termBitsPerDim  index t: L_t for t ≥ 1, the decoder L_0 at t = 0
     * @param rmse255         index t: RMSE of x̂_0 from x_t against x_0, on the [0, 255] scale
     */
    public record Result(int images, double priorBitsPerDim, double[] termBitsPerDim, double[] rmse255) {
        /** Total negative log-likelihood bound L_T + Σ_{t≥1} L_t + L_0, in bits per dimension. */
        public double nllBitsPerDim() {
            return priorBitsPerDim + Arrays.stream(termBitsPerDim).sum();
        }

        public double decoderBitsPerDim() {
            return termBitsPerDim[0];
        }
    }

    /**
     * Evaluates the bound on {@code x0} (rows of one image each, 8-bit values on the [-1, 1] scale), {@code batch}
     * images per forward pass; {@code onTimestep} hears each finished timestep of each batch.
     */
    public Result evaluate(float[][] x0, long seed, int batch, IntConsumer onTimestep) {
        int steps = model.timesteps();
        int[] shape = model.imageShape();
        double prior = 0;
        double[] terms = new double[steps];
        double[] squaredError = new double[steps];
        for (int from = 0; from < x0.length; from += batch) {
            int rows = Math.min(batch, x0.length - from);
            int d = x0[from].length;
            for (int i = 0; i < rows; i++) {
                prior += bound.priorBitsPerDim(x0[from + i]);
            }
            int[] classes = new int[rows];
            Arrays.fill(classes, Denoiser.NO_CLASS);
            for (int t = steps - 1; t >= 0; t--) {
                float[][] xt = new float[rows][];
                float[] flat = new float[rows * d];
                for (int i = 0; i < rows; i++) {
                    xt[i] = bound.process().qSample(x0[from + i], t, KeyedNoise.gaussian(seed, from + i, t, d));
                    System.arraycopy(xt[i], 0, flat, i * d, d);
                }
                int[] ts = new int[rows];
                Arrays.fill(ts, t);
                float[] eps = Tensors.flat(model.predictEps(Tensors.batch(flat, rows, shape), ts, classes));
                for (int i = 0; i < rows; i++) {
                    float[] epsI = Arrays.copyOfRange(eps, i * d, (i + 1) * d);
                    float[] predX0 = bound.process().predictXStartFromEps(xt[i], t, epsI, true);
                    terms[t] += bound.termBitsPerDim(t, x0[from + i], xt[i], predX0);
                    squaredError[t] += meanSquaredError255(x0[from + i], predX0);
                }
                onTimestep.accept(t);
            }
        }
        int n = x0.length;
        double[] rmse = new double[steps];
        for (int t = 0; t < steps; t++) {
            terms[t] /= n;
            rmse[t] = Math.sqrt(squaredError[t] / n);
        }
        return new Result(n, prior / n, terms, rmse);
    }

    private static double meanSquaredError255(float[] x0, float[] predX0) {
        double sum = 0;
        for (int i = 0; i < x0.length; i++) {
            double diff = (x0[i] - predX0[i]) * 127.5;
            sum += diff * diff;
        }
        return sum / x0.length;
    }
}

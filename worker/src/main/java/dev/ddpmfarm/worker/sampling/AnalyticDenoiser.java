package dev.ddpmfarm.worker.sampling;

import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.worker.model.Denoiser;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The Bayes-optimal ε-predictor for Gaussian data, in closed form: the denoiser a perfectly trained network would
 * be, so that samplers and the variational bound can be checked against exact answers.
 *
 * <p>For x_0 ~ N(μ, s² I), x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε is N(√ᾱ_t μ, v_t I) with v_t = ᾱ_t s² + 1 − ᾱ_t, and the
 * minimiser of E‖ε − ε̂(x_t)‖² is E[ε | x_t] = √(1−ᾱ_t) (x_t − √ᾱ_t μ) / v_t. With one mean per class the class
 * label selects its Gaussian; the "no class" label gets the optimal predictor for the equal-weight mixture of the
 * classes, Σ_c w_c(x_t) E[ε | x_t, c] with w_c ∝ N(x_t; √ᾱ_t μ_c, v_t I), which is what classifier-free guidance
 * contrasts a class with.
 */
public final class AnalyticDenoiser implements Denoiser {
    private final GaussianDiffusion process;
    private final int[] imageShape;
    private final double[][] means;
    private final double variance;
    private final boolean conditional;

    private AnalyticDenoiser(GaussianDiffusion process, int[] imageShape, double[][] means, double std,
                             boolean conditional) {
        if (process.respaced()) {
            throw new IllegalArgumentException("the analytic denoiser takes the model's full process, not a respacing");
        }
        if (!(std > 0)) {
            throw new IllegalArgumentException("std must be > 0, got " + std);
        }
        int dims = Arrays.stream(imageShape).reduce(1, (a, b) -> a * b);
        for (double[] mean : means) {
            if (mean.length != dims) {
                throw new IllegalArgumentException("a mean needs " + dims + " values for shape " + Arrays.toString(imageShape));
            }
        }
        this.process = process;
        this.imageShape = imageShape.clone();
        this.means = Arrays.stream(means).map(double[]::clone).toArray(double[][]::new);
        this.variance = std * std;
        this.conditional = conditional;
    }

    /** An unconditional denoiser for x_0 ~ N(mean, std² I), {@code mean} in {@code [C, H, W]} order. */
    public static AnalyticDenoiser gaussian(GaussianDiffusion process, int[] imageShape, double[] mean, double std) {
        return new AnalyticDenoiser(process, imageShape, new double[][] {mean}, std, false);
    }

    /** A class-conditional denoiser: class c is N(classMeans[c], std² I); no class is their equal-weight mixture. */
    public static AnalyticDenoiser classConditional(GaussianDiffusion process, int[] imageShape, double[][] classMeans,
                                                    double std) {
        if (classMeans.length < 1) {
            throw new IllegalArgumentException("need at least one class");
        }
        return new AnalyticDenoiser(process, imageShape, classMeans, std, true);
    }

    @Override
    public INDArray predictEps(INDArray xt, int[] t, int[] classes) {
        int n = (int) xt.size(0);
        int dims = (int) (xt.length() / n);
        float[] x = Tensors.flat(xt);
        float[] eps = new float[x.length];
        double[] perClass = new double[dims];
        double[] logWeights = new double[means.length];
        for (int row = 0; row < n; row++) {
            int offset = row * dims;
            double alphaBar = process.alphaBar(t[row]);
            double signal = Math.sqrt(alphaBar);
            double v = alphaBar * variance + 1 - alphaBar;
            double scale = Math.sqrt(1 - alphaBar) / v;
            int label = conditional ? classes[row] : 0;
            if (label != NO_CLASS) {
                if (label < 0 || label >= means.length) {
                    throw new IllegalArgumentException("class " + label + " outside 0.." + (means.length - 1));
                }
                for (int j = 0; j < dims; j++) {
                    eps[offset + j] = (float) (scale * (x[offset + j] - signal * means[label][j]));
                }
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < means.length; c++) {
                double sq = 0;
                for (int j = 0; j < dims; j++) {
                    double d = x[offset + j] - signal * means[c][j];
                    sq += d * d;
                }
                logWeights[c] = -sq / (2 * v);
                max = Math.max(max, logWeights[c]);
            }
            double total = 0;
            for (int c = 0; c < means.length; c++) {
                logWeights[c] = Math.exp(logWeights[c] - max);
                total += logWeights[c];
            }
            Arrays.fill(perClass, 0);
            for (int c = 0; c < means.length; c++) {
                double w = logWeights[c] / total;
                for (int j = 0; j < dims; j++) {
                    perClass[j] += w * scale * (x[offset + j] - signal * means[c][j]);
                }
            }
            for (int j = 0; j < dims; j++) {
                eps[offset + j] = (float) perClass[j];
            }
        }
        return Tensors.batch(eps, n, imageShape);
    }

    @Override
    public int[] imageShape() {
        return imageShape.clone();
    }

    @Override
    public int numClasses() {
        return conditional ? means.length : 0;
    }

    @Override
    public int timesteps() {
        return process.timesteps();
    }
}

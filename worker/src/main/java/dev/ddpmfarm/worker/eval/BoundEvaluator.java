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
    private final boolean clipDenoised;

    public BoundEvaluator(Denoiser model, GaussianDiffusion process, VarianceType variance) {
        this(model, process, variance, true);
    }

    /**
     * @param clipDenoised whether x̂_0 is clipped to [-1, 1] as for images (true); the closed-form checks on
     *                     unbounded Gaussian data turn it off
     */
    public BoundEvaluator(Denoiser model, GaussianDiffusion process, VarianceType variance, boolean clipDenoised) {
        this.clipDenoised = clipDenoised;
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
        Run run = start(x0, seed, batch);
        while (!run.done()) {
            onTimestep.accept(run.step());
        }
        return run.result();
    }

    /** An evaluation taken one forward pass at a time, so a caller can interleave it with other work. */
    public Run start(float[][] x0, long seed, int batch) {
        return new Run(x0, seed, batch);
    }

    /**
     * The sums of an evaluation in progress: batches of images in order, and within a batch every timestep from
     * T − 1 down to 0. Its position and sums are plain numbers, so it can be saved and resumed ({@link #state}).
     */
    public final class Run {
        private final float[][] x0;
        private final long seed;
        private final int steps = model.timesteps();
        private int batch;
        private State state;

        /**
         * What an evaluation has summed so far.
         *
         * @param nextImage    the first image of the batch in progress
         * @param nextT        the next timestep of that batch
         * @param prior        Σ L_T over finished and current-batch images
         * @param terms        Σ over images of the term at each timestep
         * @param squaredError Σ over images of the mean squared error of x̂_0 at each timestep, [0, 255] scale
         * @param batch        images per forward pass: the batch in progress has summed its timesteps above nextT
         *                     for exactly these images, so a resumed run keeps it (null in states saved before it
         *                     was recorded: the resuming run's own)
         */
        public record State(int nextImage, int nextT, double prior, double[] terms, double[] squaredError,
                            Integer batch) {
        }

        private Run(float[][] x0, long seed, int batch) {
            this.x0 = x0;
            this.seed = seed;
            this.batch = batch;
            this.state = new State(0, steps - 1, 0, new double[steps], new double[steps], batch);
        }

        public State state() {
            return state;
        }

        /**
         * Continues from a saved state of the same images and seed, with the saved batch size whatever this run was
         * given: a worker configured with another {@code FARM_WORKER_MAX_BATCH} may take the job over.
         */
        public void resume(State saved) {
            if (saved.terms().length != steps || saved.nextImage() > x0.length) {
                throw new IllegalArgumentException("the saved state belongs to another evaluation");
            }
            if (saved.batch() != null) {
                batch = saved.batch();
            }
            state = new State(saved.nextImage(), saved.nextT(), saved.prior(), saved.terms(), saved.squaredError(),
                    batch);
        }

        public boolean done() {
            return state.nextImage() >= x0.length;
        }

        /** Forward passes done and in all. */
        public long passesDone() {
            return (long) (state.nextImage() / batch) * steps + (steps - 1 - state.nextT());
        }

        public long passes() {
            return (long) ((x0.length + batch - 1) / batch) * steps;
        }

        /** Images whose every timestep is summed. */
        public int imagesDone() {
            return state.nextImage();
        }

        /**
         * One forward pass: the next timestep of the current batch of images.
         *
         * @return the timestep just summed
         */
        public int step() {
            int from = state.nextImage();
            int t = state.nextT();
            int rows = Math.min(batch, x0.length - from);
            int d = x0[from].length;
            double prior = state.prior();
            if (t == steps - 1) {
                for (int i = 0; i < rows; i++) {
                    prior += bound.priorBitsPerDim(x0[from + i]);
                }
            }
            float[][] xt = new float[rows][];
            float[] flat = new float[rows * d];
            for (int i = 0; i < rows; i++) {
                xt[i] = bound.process().qSample(x0[from + i], t, KeyedNoise.gaussian(seed, from + i, t, d));
                System.arraycopy(xt[i], 0, flat, i * d, d);
            }
            int[] ts = new int[rows];
            Arrays.fill(ts, t);
            int[] classes = new int[rows];
            Arrays.fill(classes, Denoiser.NO_CLASS);
            float[] eps = Tensors.flat(model.predictEps(Tensors.batch(flat, rows, model.imageShape()), ts, classes));
            double[] terms = state.terms();
            double[] squaredError = state.squaredError();
            for (int i = 0; i < rows; i++) {
                float[] epsI = Arrays.copyOfRange(eps, i * d, (i + 1) * d);
                float[] predX0 = bound.process().predictXStartFromEps(xt[i], t, epsI, clipDenoised);
                terms[t] += bound.termBitsPerDim(t, x0[from + i], xt[i], predX0);
                double rmse = rmse255(x0[from + i], predX0);
                squaredError[t] += rmse * rmse;
            }
            state = t == 0 ? new State(from + rows, steps - 1, prior, terms, squaredError, batch)
                    : new State(from, t - 1, prior, terms, squaredError, batch);
            return t;
        }

        /** The means over all images; call once {@link #done}. */
        public Result result() {
            int n = x0.length;
            double[] terms = new double[steps];
            double[] rmse = new double[steps];
            for (int t = 0; t < steps; t++) {
                terms[t] = state.terms()[t] / n;
                rmse[t] = Math.sqrt(state.squaredError()[t] / n);
            }
            return new Result(n, state.prior() / n, terms, rmse);
        }
    }

    /** The RMSE between two images on the [-1, 1] scale, measured on the [0, 255] scale. */
    public static double rmse255(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double diff = (a[i] - b[i]) * 127.5;
            sum += diff * diff;
        }
        return Math.sqrt(sum / a.length);
    }
}

package dev.ddpmfarm.worker.train;

import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.Safetensors;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.model.Workspaces;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Algorithm 1 of the paper with L_simple: draw x_0 from the data, t uniformly, ε ~ N(0, I), and take a gradient step
 * on ‖ε − ε_θ(√ᾱ_t x_0 + √(1−ᾱ_t) ε, t)‖². Adam with warm-up and an EMA of the weights ({@link AdamEma}); class
 * labels are dropped to the null label with probability {@code classDropout} so that one network learns both the
 * conditional and the unconditional ε (classifier-free guidance).
 *
 * <p>Everything random in step s (which images, t, ε, dropped labels) comes from a generator keyed by
 * (seed, s), and the order of the data from one keyed by (seed, epoch). A checkpoint therefore holds all the state
 * there is (weights, Adam moments, EMA, step) and a resumed run continues exactly as if it had not stopped.
 */
public final class Trainer {
    /**
     * A checkpoint is four files, one per state: the weights, their EMA and Adam's two moments. Each holds one float
     * per parameter, so up to 5M parameters each is under 20 MB, the repository's limit per file, and a run's
     * checkpoint can be committed. All four carry the step, so a torn set is detected.
     */
    static final String WEIGHTS = "checkpoint-weights.safetensors";
    static final String EMA = "checkpoint-ema.safetensors";
    static final String ADAM_M = "checkpoint-adam-m.safetensors";
    static final String ADAM_V = "checkpoint-adam-v.safetensors";
    private static final List<String> FILES = List.of(WEIGHTS, EMA, ADAM_M, ADAM_V);

    /**
     * Hyper-parameters and bookkeeping of a training run; {@code annealSteps} 0 keeps the learning rate constant, and
     * the rate's warm-up and decay count from step {@code cycleStart} (see {@link AdamEma#learningRate}).
     */
    public record Options(UNetConfig config, double[] alphasCumprod, int batchSize, double learningRate,
                          int warmupSteps, long annealSteps, long cycleStart, double gradClip, double emaDecay, double classDropout,
                          long seed, Duration checkpointEvery) {
    }

    private final Options options;
    private final TrainingSet data;
    private final Path checkpointDir;
    private final PrintStream log;
    private final UNetModel model;
    private final Map<String, INDArray> params;
    private final AdamEma optimizer;
    private final Map<Integer, int[]> permutations = new HashMap<>();
    private long step;
    private volatile boolean stopRequested;

    public Trainer(Options options, TrainingSet data, Path checkpointDir, PrintStream log) throws IOException {
        this.options = options;
        this.data = data;
        this.checkpointDir = checkpointDir;
        this.log = log;
        this.model = UNetModel.initial(options.config(), options.alphasCumprod().length, options.seed());
        this.params = model.parameters();
        this.optimizer = new AdamEma(params, options.learningRate(), options.warmupSteps(), options.annealSteps(),
                options.cycleStart(), options.gradClip(), options.emaDecay());
        if (hasCheckpoint(checkpointDir)) {
            restore();
            log.printf("resumed from %s at step %d%n", checkpointDir, step);
        }
    }

    /** Asks {@link #train} to stop after the current step and write its checkpoint (used on Ctrl-C / SIGTERM). */
    public void requestStop() {
        stopRequested = true;
    }

    public boolean stopRequested() {
        return stopRequested;
    }

    public long step() {
        return step;
    }

    public double stepsPerEpoch() {
        return (double) data.size() / options.batchSize();
    }

    /** Trains until {@code maxSteps} total steps or {@code maxTime} of wall time, checkpointing as it goes. */
    public void train(long maxSteps, Duration maxTime) throws IOException {
        long start = System.nanoTime();
        long lastCheckpoint = start;
        long lastLog = start;
        long stepsSinceLog = 0;
        double lossSum = 0;
        while (step < maxSteps && System.nanoTime() - start < maxTime.toNanos() && !stopRequested) {
            lossSum += trainStep();
            stepsSinceLog++;
            long now = System.nanoTime();
            if (now - lastLog > 30e9 || step == maxSteps) {
                double seconds = (now - lastLog) / 1e9;
                double imagesPerSecond = stepsSinceLog * options.batchSize() / seconds;
                long remaining = maxSteps - step;
                log.printf("step %d  epoch %.2f  loss %.5f  %.1f images/s  lr %.2e  ETA %s%n", step,
                        step / stepsPerEpoch(), lossSum / stepsSinceLog, imagesPerSecond,
                        optimizer.learningRate(step), maxSteps == Long.MAX_VALUE ? "-"
                                : Duration.ofSeconds((long) (remaining * options.batchSize() / imagesPerSecond)));
                lastLog = now;
                stepsSinceLog = 0;
                lossSum = 0;
            }
            if (now - lastCheckpoint > options.checkpointEvery().toNanos()) {
                checkpoint();
                lastCheckpoint = now;
            }
        }
        checkpoint();
    }

    /** One step of Algorithm 1; returns the batch's L_simple. */
    double trainStep() {
        step++;
        int b = options.batchSize();
        int d = data.images()[0].length;
        SplittableRandom random = new SplittableRandom(mix(options.seed(), step));
        float[] x = new float[b * d];
        float[] noise = new float[b * d];
        int[] t = new int[b];
        int[] classes = new int[b];
        double[] ac = options.alphasCumprod();
        for (int j = 0; j < b; j++) {
            long position = (step - 1) * b + j;
            int epoch = (int) (position / data.size());
            int index = permutation(epoch)[(int) (position % data.size())];
            float[] x0 = data.images()[index];
            t[j] = random.nextInt(ac.length);
            classes[j] = random.nextDouble() < options.classDropout() ? Denoiser.NO_CLASS : data.labels()[index];
            float a = (float) Math.sqrt(ac[t[j]]);
            float s = (float) Math.sqrt(1 - ac[t[j]]);
            for (int k = 0; k < d; k++) {
                float e = (float) random.nextGaussian();
                noise[j * d + k] = e;
                x[j * d + k] = a * x0[k] + s * e;
            }
        }
        int[] shape = data.shape();
        long[] imageShape = {b, shape[0], shape[1], shape[2]};
        return Workspaces.run("unet-training", () -> {
            UNetModel.LossAndGradients result = model.lossAndGradients(Nd4j.create(x, imageShape, 'c'), t, classes,
                    Nd4j.create(noise, imageShape, 'c'));
            optimizer.update(params, result.gradients(), step);
            return result.loss();
        });
    }

    private int[] permutation(int epoch) {
        permutations.keySet().removeIf(k -> k < epoch - 1);
        return permutations.computeIfAbsent(epoch, e -> {
            int[] perm = new int[data.size()];
            for (int i = 0; i < perm.length; i++) {
                perm[i] = i;
            }
            TrainingSet.shuffle(perm, new SplittableRandom(mix(options.seed() ^ 0x5eedL, e)));
            return perm;
        });
    }

    static long mix(long seed, long counter) {
        long z = seed * 0x9E3779B97F4A7C15L + counter * 0xC2B2AE3D27D4EB4FL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The EMA weights as a model: what gets shipped and sampled from. */
    public UNetModel emaModel() {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        optimizer.ema.forEach((k, v) -> copy.put(k, v.dup()));
        return new UNetModel(options.config(), options.alphasCumprod().length, copy);
    }

    /**
     * Writes weights, EMA, Adam moments and step to the checkpoint directory: all four files are complete under
     * temporary names before any replaces the previous checkpoint's (a set from different steps is refused by the
     * resume).
     */
    public void checkpoint() throws IOException {
        Files.createDirectories(checkpointDir);
        Map<Path, Map<String, Safetensors.Tensor>> files = new LinkedHashMap<>();
        state().forEach((name, arrays) -> {
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            arrays.forEach((k, v) -> tensors.put(k, new Safetensors.Tensor(v.shape(), v.dup().data().asFloat())));
            files.put(checkpointDir.resolve(name), tensors);
        });
        Safetensors.write(files, Map.of("step", Long.toString(step)));
    }

    public static boolean hasCheckpoint(Path dir) {
        return FILES.stream().anyMatch(name -> Files.exists(dir.resolve(name)));
    }

    /** The arrays of each checkpoint file, by file name. */
    private Map<String, Map<String, INDArray>> state() {
        return Map.of(WEIGHTS, params, EMA, optimizer.ema, ADAM_M, optimizer.m, ADAM_V, optimizer.v);
    }

    private void restore() throws IOException {
        Map<String, Long> steps = new LinkedHashMap<>();
        for (String name : FILES) {
            steps.put(name, stepOf(checkpointDir.resolve(name)));
        }
        if (new HashSet<>(steps.values()).size() > 1) {
            throw new IOException("torn checkpoint in " + checkpointDir + ": files of different steps " + steps);
        }
        for (Map.Entry<String, Map<String, INDArray>> file : state().entrySet()) {
            restoreAll(checkpointDir.resolve(file.getKey()), file.getValue());
        }
        step = steps.get(WEIGHTS);
    }

    private static long stepOf(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("incomplete checkpoint: " + file + " is missing");
        }
        return Safetensors.metadata(file).map(m -> Long.parseLong(m.get("step")))
                .orElseThrow(() -> new IOException(file + ": checkpoint without a step"));
    }

    private static void restoreAll(Path file, Map<String, INDArray> into) throws IOException {
        Map<String, Safetensors.Tensor> tensors = Safetensors.read(file);
        for (Map.Entry<String, INDArray> e : into.entrySet()) {
            Safetensors.Tensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new IOException(file + " lacks " + e.getKey());
            }
            if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                throw new IOException(file + " holds " + e.getKey() + " of shape " + Arrays.toString(t.shape())
                        + ", this network's is " + Arrays.toString(e.getValue().shape())
                        + ": resume with the architecture it was trained with (--base-channels)");
            }
            e.getValue().assign(Nd4j.create(t.values(), t.shape(), 'c'));
        }
    }
}

package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.model.UNetParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code farm bench model [--model DIR] [--out FILE]}: forward images/s of the U-Net at batch 1, 16, 64, 256 with the
 * arithmetic rate they stand for, the fixed cost of a batch-1 call, and a training step (forward + backward) — printed
 * and written to a file. Every time is the median of its calls (as in {@code scripts/bench/torch-unet.py}), so a
 * garbage collection or another process's burst does not move it.
 */
public final class BenchCli {
    private static final java.time.Duration WARM_UP = java.time.Duration.ofSeconds(5);

    private BenchCli() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0 || !args[0].equals("model")) {
            throw new IllegalArgumentException("usage: farm bench model [--model DIR] [--out FILE]");
        }
        Args a = new Args(java.util.Arrays.copyOfRange(args, 1, args.length));
        Path modelDir = Path.of(a.value("--model", "models/fashion-mnist"));
        UNetModel model = Files.exists(modelDir.resolve("config.json")) ? UNetModel.load(modelDir)
                : UNetModel.initial(UNetConfig.fashionMnist(10), 1000, 0);
        List<String> lines = new ArrayList<>();
        long flops = UNetParameters.flopsPerImage(model.config());
        report(lines, String.format("model %s, %s, %.1f MFLOP per image", modelDir, model.config(), flops / 1e6));
        Map<Integer, Double> forward = new TreeMap<>();
        for (int batch : new int[] {1, 16, 64, 256}) {
            double seconds = timeForward(model, batch, batch == 1 ? 51 : Math.max(5, 512 / batch));
            forward.put(batch, seconds);
            report(lines, String.format("forward  batch %3d: %8.2f ms/call  %8.1f images/s  %6.1f GFLOP/s", batch,
                    seconds * 1e3, batch / seconds, batch * flops / seconds / 1e9));
        }
        double imageShare = forward.get(64) / 64;
        report(lines, String.format("fixed cost of a batch-1 call: %.2f ms (the call less one image's share of a "
                + "batch-64 call, %.2f ms)", (forward.get(1) - imageShare) * 1e3, imageShare * 1e3));
        for (int batch : new int[] {64, 128}) {
            double seconds = timeTrainingStep(model, batch, 5);
            report(lines, String.format("training batch %3d: %8.1f ms/step  %8.1f images/s", batch, seconds * 1e3, batch / seconds));
        }
        Path out = Path.of(a.value("--out", "target/bench-model.txt"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, lines);
    }

    private static void report(List<String> lines, String line) {
        System.out.println(line);
        lines.add(line);
    }

    private static double timeForward(Denoiser model, int batch, int reps) {
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 1, 28, 28);
        int[] t = new int[batch];
        int[] y = new int[batch];
        java.util.Arrays.fill(t, 500);
        java.util.Arrays.fill(y, Denoiser.NO_CLASS);
        warmUp(() -> model.predictEps(x, t, y));
        return medianSeconds(() -> model.predictEps(x, t, y), reps);
    }

    private static double medianSeconds(Runnable call, int reps) {
        double[] seconds = new double[reps];
        for (int i = 0; i < reps; i++) {
            long start = System.nanoTime();
            call.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        java.util.Arrays.sort(seconds);
        return (seconds[(reps - 1) / 2] + seconds[reps / 2]) / 2;
    }

    /**
     * Runs {@code pass} for at least two calls and {@link #WARM_UP}: the JIT compiles the Vector API kernels only after
     * many iterations, and until then they run orders of magnitude slower.
     */
    private static void warmUp(Runnable pass) {
        long end = System.nanoTime() + WARM_UP.toNanos();
        for (int i = 0; i < 2 || System.nanoTime() < end; i++) {
            pass.run();
        }
    }

    private static double timeTrainingStep(UNetModel model, int batch, int reps) {
        int[] t = new int[batch];
        int[] y = new int[batch];
        java.util.Arrays.fill(t, 500);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 1, 28, 28);
        INDArray noise = Nd4j.randn(DataType.FLOAT, batch, 1, 28, 28);
        warmUp(() -> model.lossAndGradients(x, t, y, noise));
        return medianSeconds(() -> model.lossAndGradients(x, t, y, noise), reps);
    }
}

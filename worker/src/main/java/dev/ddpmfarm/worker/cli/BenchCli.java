package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code farm bench model [--model DIR] [--out FILE]}: forward images/s of the U-Net at batch 1, 16, 64, 256, the
 * per-call fixed cost at batch 1, and a training step (forward + backward) — printed and written to a file.
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
        report(lines, String.format("model %s, %s", modelDir, model.config()));
        for (int batch : new int[] {1, 16, 64, 256}) {
            double seconds = timeForward(model, batch, batch == 1 ? 50 : Math.max(3, 256 / batch));
            report(lines, String.format("forward  batch %3d: %8.2f ms/call  %8.1f images/s", batch, seconds * 1e3, batch / seconds));
        }
        for (int batch : new int[] {64, 128}) {
            double seconds = timeTrainingStep(model, batch, 3);
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
        long start = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            model.predictEps(x, t, y);
        }
        return (System.nanoTime() - start) / 1e9 / reps;
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
        long start = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            model.lossAndGradients(x, t, y, noise);
        }
        return (System.nanoTime() - start) / 1e9 / reps;
    }
}

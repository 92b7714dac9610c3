package dev.ddpmfarm.worker.testing;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.model.UNetParameters;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * A random-weight class-conditional U-Net on 8×8 grayscale images (two levels of 8 and 16 channels, T = 1000): a real
 * model directory (SPEC §7) whose forward pass costs milliseconds, so the worker and end-to-end tests run whole jobs
 * quickly. Shared with the other modules' tests through the worker's test jar.
 */
public final class TinyModel {
    public static final String NAME = "tiny";
    public static final int SIZE = 8;
    public static final int CLASSES = 10;

    private TinyModel() {
    }

    /** Writes the model into {@code modelsDir/tiny} and returns that directory. */
    public static Path write(Path modelsDir) {
        return write(modelsDir, SIZE);
    }

    /** The same network for {@code size}×{@code size} images (28: Fashion-MNIST's, for the evaluation's classifier). */
    public static Path write(Path modelsDir, int size) {
        return write(modelsDir, size, CLASSES);
    }

    /** The same network with {@code classes} classes (0: unconditional). */
    public static Path write(Path modelsDir, int size, int classes) {
        UNetConfig config = new UNetConfig(1, size, 8, new int[] {1, 2}, 1, new int[] {4}, 4, classes);
        UNetModel model = UNetModel.initial(config, 1000, 11);
        Path dir = modelsDir.resolve(NAME);
        List<String> classNames = IntStream.range(0, classes).mapToObj(c -> "class-" + c).toList();
        new ModelCard(NAME, model.imageShape(), model.timesteps(), BetaSchedule.LINEAR.wireName(), classNames,
                UNetModel.architectureMap(config), UNetParameters.count(config), Map.of("data", "none (random weights)"),
                Map.of()).write(dir);
        model.saveWeights(dir);
        return dir;
    }
}

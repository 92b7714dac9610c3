package dev.ddpmfarm.worker.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.model.UNetParameters;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleCliTest {
    private static final UNetConfig TINY = new UNetConfig(1, 8, 8, new int[] {1, 2}, 1, new int[] {4}, 4, 10);

    @TempDir
    Path dir;

    private Path tinyModel() {
        Path model = dir.resolve("model");
        UNetModel unet = UNetModel.initial(TINY, 1000, 3);
        new ModelCard("tiny", unet.imageShape(), 1000, "linear", FashionMnist.CLASS_NAMES,
                UNetModel.architectureMap(TINY), UNetParameters.count(TINY), Map.of(), Map.of()).write(model);
        unet.saveWeights(model);
        return model;
    }

    private static String run(String... args) throws IOException {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            SampleCli.main(args);
        } finally {
            System.setOut(stdout);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("farm sample writes samples/000000.png …, samples.npy and grid.png, reproducibly for a seed")
    void writesTheFilesAJobStores() throws IOException {
        Path model = tinyModel();
        Path out = dir.resolve("out");
        String line = run("--model", model.toString(), "--count", "5", "--sampler", "ddim", "--steps", "3",
                "--class", "2", "--guidance", "2", "--seed", "9", "--out", out.toString(), "--batch", "4");
        assertTrue(line.matches("5 images in [0-9.]+ s \\([0-9.]+ images/s\\).*\\R"), line);
        for (int i = 0; i < 5; i++) {
            Uint8Image png = Png.decode(Files.readAllBytes(out.resolve(String.format("samples/%06d.png", i))));
            assertEquals(8, png.height());
            assertEquals(1, png.channels());
        }
        Npy.Uint8Array samples = Npy.readUint8(Files.readAllBytes(out.resolve("samples.npy")));
        assertArrayEquals(new int[] {5, 8, 8}, samples.shape());
        assertArrayEquals(Png.decode(Files.readAllBytes(out.resolve("samples/000004.png"))).pixels(),
                java.util.Arrays.copyOfRange(samples.data(), 4 * 64, 5 * 64));
        Uint8Image grid = Png.decode(Files.readAllBytes(out.resolve("grid.png")));
        assertEquals(2 * 10 + 2, grid.height());
        assertEquals(3 * 10 + 2, grid.width());

        Path again = dir.resolve("again");
        run("--model", model.toString(), "--count", "5", "--sampler", "ddim", "--steps", "3", "--class", "2",
                "--guidance", "2", "--seed", "9", "--out", again.toString(), "--batch", "2", "--format", "npy");
        assertArrayEquals(samples.data(), Npy.readUint8(Files.readAllBytes(again.resolve("samples.npy"))).data());
        assertFalse(Files.exists(again.resolve("grid.png")));

        Path alone = dir.resolve("alone");
        run("--model", model.toString(), "--count", "1", "--first-index", "3", "--sampler", "ddim", "--steps", "3",
                "--class", "2", "--guidance", "2", "--seed", "9", "--out", alone.toString(), "--format", "png");
        assertArrayEquals(Png.decode(Files.readAllBytes(out.resolve("samples/000003.png"))).pixels(),
                Png.decode(Files.readAllBytes(alone.resolve("samples/000003.png"))).pixels(),
                "--first-index 3 regenerates sample 3 alone");
    }

    @Test
    @DisplayName("without a model directory it samples a random-weight Fashion-MNIST U-Net")
    void fallsBackToRandomWeights() throws IOException {
        Path out = dir.resolve("random");
        run("--model", dir.resolve("absent").toString(), "--count", "2", "--sampler", "ddim", "--steps", "2",
                "--seed", "1", "--out", out.toString(), "--format", "npy");
        assertArrayEquals(new int[] {2, 28, 28}, Npy.readUint8(Files.readAllBytes(out.resolve("samples.npy"))).shape());
    }

    @Test
    @DisplayName("bad options fail with a message naming them")
    void badOptions() {
        String model = tinyModel().toString();
        String out = dir.resolve("bad").toString();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> run("--model", model, "--out", out, "--format", "png,jpeg"));
        assertTrue(e.getMessage().contains("jpeg"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run("--model", model, "--out", out, "--sampler", "plms"));
        assertTrue(e.getMessage().contains("plms"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run("--model", model, "--out", out, "--class", "10"));
        assertTrue(e.getMessage().contains("--class"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run("--model", model, "--out", out, "--steps", "1001"));
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> run("--model", model, "--count", "2"));
    }
}

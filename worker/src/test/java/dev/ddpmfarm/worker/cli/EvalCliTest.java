package dev.ddpmfarm.worker.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.eval.Classifier;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.testing.TinyModel;
import dev.ddpmfarm.worker.train.TrainingSet;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCliTest {
    private static final List<String> RUNS = List.of("ddim50", "ddpm1000", "cond");

    @TempDir
    Path dir;

    /** Writes {@code images} ([C, H, W] rows on [-1, 1]) as a farm job stores them in {@code samples.npy}. */
    private Path samplesNpy(float[][] images, int size) throws IOException {
        Path file = dir.resolve("samples.npy");
        List<Uint8Image> list = Arrays.stream(images).map(x -> Uint8Image.fromModelScale(x, 1, size, size)).toList();
        Files.write(file, Npy.images(list).encode());
        return file;
    }

    @Test
    @DisplayName("--samples reads a job's samples.npy back onto the model's scale, and checks its count and size")
    void readsSamples() throws IOException {
        float[][] images = new float[3][16];
        for (int i = 0; i < images.length; i++) {
            for (int j = 0; j < 16; j++) {
                images[i][j] = Uint8Image.toModelScale((i * 16 + j) * 5);
            }
        }
        Path file = samplesNpy(images, 4);
        assertArrayEquals(images, EvalCli.readSamples(file, 3, new int[] {1, 4, 4}));
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> EvalCli.readSamples(file, 1000, new int[] {1, 4, 4}));
        assertTrue(count.getMessage().contains("holds 3 samples; --count is 1000"), count.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> EvalCli.readSamples(file, 3, new int[] {1, 28, 28}));
        assertTrue(size.getMessage().contains("sample 0 is 4x4x1, the model makes 28x28x1"), size.getMessage());
    }

    @Test
    @DisplayName("--samples takes RUN=FILE for unconditional runs that --runs names")
    void samplesOption() {
        assertEquals(Map.of("ddpm1000", Path.of("a/samples.npy")), EvalCli.samplesFiles("ddpm1000=a/samples.npy", RUNS));
        assertEquals(Map.of(), EvalCli.samplesFiles("", RUNS));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalCli.samplesFiles("ddim25=x.npy", RUNS))
                .getMessage().contains("which --runs"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalCli.samplesFiles("cond=x.npy", RUNS))
                .getMessage().contains("unconditional"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalCli.samplesFiles("ddpm1000", RUNS))
                .getMessage().contains("RUN=FILE.npy"));
    }

    @Test
    @DisplayName("each run's card key names what differs from the default: the guidance, its interval, the seed")
    void cardKeys() {
        assertEquals("ddim50", EvalCli.cardKey("ddim50", Guidance.of(2), 0));
        assertEquals("ddim50-seed1", EvalCli.cardKey("ddim50", new Guidance(2, 0.4, 1), 1));
        assertEquals("cond-guidance1.5", EvalCli.cardKey("cond", Guidance.of(1.5), 0));
        assertEquals("cond-guidance2-steps0.4-1-seed1", EvalCli.cardKey("cond", new Guidance(2, 0.4, 1), 1));
    }

    @Test
    @DisplayName("a new evaluation keeps the card's runs it did not measure again and replaces the rest")
    void mergesQuality() {
        Map<String, Object> earlier = Map.of("frechetFloor", 0.7, "nll", Map.of("bitsPerDim", 3.4),
                "runs", Map.of("ddim50", Map.of("frechet", 3.4), "cond", Map.of("frechet", 1.6)));
        Map<String, Object> now = Map.of("frechetFloor", 0.68, "runs", Map.of("cond", Map.of("frechet", 1.5),
                "ddpm1000", Map.of("frechet", 2.0)));
        assertEquals(Map.of("frechetFloor", 0.68, "nll", Map.of("bitsPerDim", 3.4), "runs", Map.of(
                "ddim50", Map.of("frechet", 3.4), "cond", Map.of("frechet", 1.5), "ddpm1000", Map.of("frechet", 2.0))),
                EvalCli.merged(earlier, now));
    }

    @Test
    @DisplayName("farm eval --samples judges a file of an unconditional model: the floor's own training images score"
            + " exactly 1× the floor; the conditional run is refused for that model")
    void judgesSamplesFromAFile() throws IOException {
        assumeTrue(Files.exists(FashionMnist.DEFAULT_DIR.resolve("train-images-idx3-ubyte.gz")),
                "needs the dataset-fashion-mnist package (scripts/test installs it)");
        Path model = TinyModel.write(dir.resolve("models"), 28, 0);
        IllegalArgumentException cond = assertThrows(IllegalArgumentException.class,
                () -> EvalCli.main(new String[] {"--model", model.toString(), "--runs", "cond"}));
        assertTrue(cond.getMessage().contains("needs a class-conditional model"), cond.getMessage());
        TrainingSet train = TrainingSet.fashionMnist(FashionMnist.DEFAULT_DIR);
        int[] firstLabels = Arrays.copyOf(train.labels(), 512);
        Classifier.train(Arrays.copyOf(train.images(), 512), firstLabels, 10, 1, 0,
                new PrintStream(OutputStream.nullOutputStream())).save(model.resolve(Classifier.FILE_NAME));
        int count = 200;
        Path samples = samplesNpy(EvalCli.subset(train.images(), count, 0), 28);

        EvalCli.main(new String[] {"--model", model.toString(), "--count", Integer.toString(count), "--runs", "ddpm1000",
            "--samples", "ddpm1000=" + samples, "--nll-images", "0", "--report", dir.resolve("report.txt").toString()});

        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) ((Map<String, Object>) ModelCard.read(model).quality()
                .get("runs")).get("ddpm1000");
        assertEquals(1.0, (double) run.get("frechetOverFloor"), 1e-4);
        assertEquals(run.get("frechet"), run.get("frechetFloor"));
        assertEquals(0, ((Number) run.get("seed")).intValue());
        assertEquals(10, ((List<?>) run.get("classShares")).size(), "one share per class of the classifier");
        assertEquals(samples.toString(), run.get("samples"));
        assertEquals(1000, run.get("steps"));
        assertTrue(Files.readString(dir.resolve("report.txt")).contains("samples from " + samples));
    }
}

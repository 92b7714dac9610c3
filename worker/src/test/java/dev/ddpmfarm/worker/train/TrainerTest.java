package dev.ddpmfarm.worker.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.worker.model.UNetConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TrainerTest {
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static final UNetConfig TINY = new UNetConfig(1, 8, 8, new int[] {1, 2}, 1, new int[] {4}, 4, 3);

    private static TrainingSet data() {
        SplittableRandom random = new SplittableRandom(3);
        float[][] images = new float[40][64];
        int[] labels = new int[40];
        for (int i = 0; i < images.length; i++) {
            labels[i] = i % 3;
            for (int j = 0; j < 64; j++) {
                images[i][j] = (float) Math.tanh(random.nextGaussian() + labels[i] - 1);
            }
        }
        return new TrainingSet(images, labels, new int[] {1, 8, 8}, java.util.List.of("a", "b", "c"));
    }

    private static Trainer trainer(Path dir) throws IOException {
        return trainer(dir, 0);
    }

    private static Trainer trainer(Path dir, long annealSteps) throws IOException {
        Trainer.Options options = new Trainer.Options(TINY, GaussianDiffusion.of(BetaSchedule.LINEAR, 100).alphasCumprod(), 8, 1e-3, 2,
                annealSteps, 0, 1.0, 0.9, 0.2, 7, Duration.ofHours(1));
        return new Trainer(options, data(), dir, QUIET);
    }

    @Test
    @DisplayName("the learning rate warms up linearly, then stays constant or falls linearly to zero at the anneal step; "
            + "a later cycle start warms up again and anneals over the steps left")
    void learningRateSchedule() {
        Map<String, INDArray> params = Map.of("w", Nd4j.zeros(DataType.FLOAT, 2));
        AdamEma constant = new AdamEma(params, 1e-3, 10, 0, 0, 1.0, 0.9);
        AdamEma annealed = new AdamEma(params, 1e-3, 10, 100, 0, 1.0, 0.9);
        AdamEma restarted = new AdamEma(params, 1e-3, 10, 300, 100, 1.0, 0.9);
        assertEquals(1e-4, constant.learningRate(1), 1e-15);
        assertEquals(1e-3, constant.learningRate(10), 1e-15);
        assertEquals(1e-3, constant.learningRate(1_000_000), 1e-15);
        assertEquals(0.9e-3, annealed.learningRate(10), 1e-15);
        assertEquals(0.5e-3, annealed.learningRate(50), 1e-15);
        assertEquals(0.0, annealed.learningRate(100));
        assertEquals(0.0, annealed.learningRate(150));
        assertEquals(0.0, restarted.learningRate(100));
        assertEquals(1e-4 * 0.995, restarted.learningRate(101), 1e-15);
        assertEquals(0.5e-3, restarted.learningRate(200), 1e-15);
        assertEquals(0.0, restarted.learningRate(300));
        assertThrows(IllegalArgumentException.class, () -> new AdamEma(params, 1e-3, 10, 100, 100, 1.0, 0.9));
    }

    @Test
    @DisplayName("a run interrupted by a checkpoint and resumed gives bit-identical weights to an uninterrupted one, "
            + "with a learning rate that decays across the interruption")
    void resumeIsExact(@TempDir Path tmp) throws IOException {
        Trainer straight = trainer(tmp.resolve("straight"), 12);
        straight.train(8, Duration.ofHours(1));

        trainer(tmp.resolve("resumed"), 12).train(3, Duration.ofHours(1));
        Trainer resumed = trainer(tmp.resolve("resumed"), 12);
        assertEquals(3, resumed.step());
        resumed.train(8, Duration.ofHours(1));

        straight.emaModel().parameters().forEach((name, p) ->
                assertArrayEquals(p.data().asFloat(), resumed.emaModel().parameters().get(name).data().asFloat(), name));
    }

    @Test
    @DisplayName("training lowers L_simple on a small dataset")
    void lossFalls(@TempDir Path tmp) throws IOException {
        Trainer trainer = trainer(tmp);
        double first = 0;
        double last = 0;
        for (int i = 0; i < 60; i++) {
            double loss = trainer.trainStep();
            if (i < 10) {
                first += loss;
            } else if (i >= 50) {
                last += loss;
            }
        }
        assertTrue(last < first * 0.8, "loss went from " + first / 10 + " to " + last / 10);
    }

    @Test
    @DisplayName("a checkpoint of another width is refused with a message naming the option")
    void otherWidth(@TempDir Path tmp) throws IOException {
        trainer(tmp).train(1, Duration.ofHours(1));
        UNetConfig wider = new UNetConfig(1, 8, 16, new int[] {1, 2}, 1, new int[] {4}, 4, 3);
        Trainer.Options options = new Trainer.Options(wider, GaussianDiffusion.of(BetaSchedule.LINEAR, 100)
                .alphasCumprod(), 8, 1e-3, 2, 0, 0, 1.0, 0.9, 0.2, 7, Duration.ofHours(1));
        IOException e = assertThrows(IOException.class, () -> new Trainer(options, data(), tmp, QUIET));
        assertTrue(e.getMessage().contains("--base-channels"), e.getMessage());
        assertEquals(List.of(40, 80, 80), IntStream.range(0, 3).map(UNetConfig.forImages(1, 28, 10, 40)::channels)
                .boxed().toList(), "the shipped shape at another width");
        assertThrows(IllegalArgumentException.class, () -> UNetConfig.forImages(1, 28, 10, 36));
    }

    @Test
    @DisplayName("a torn checkpoint (files of different steps) is refused with a clear message")
    void tornCheckpoint(@TempDir Path tmp) throws IOException {
        Trainer trainer = trainer(tmp);
        trainer.train(2, Duration.ofHours(1));
        Path adam = tmp.resolve(Trainer.ADAM_M);
        byte[] olderAdam = Files.readAllBytes(adam);
        trainer.train(3, Duration.ofHours(1));
        Files.write(adam, olderAdam);
        IOException e = assertThrows(IOException.class, () -> trainer(tmp));
        assertTrue(e.getMessage().contains("torn checkpoint"), e.getMessage());
    }
}

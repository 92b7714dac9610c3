package dev.ddpmfarm.worker.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.worker.output.Uint8Image;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ClassifierTest {

    @Test
    @DisplayName("the classifier learns two separable classes, gives 128 features, repeats itself and survives a save")
    void learnsAndRoundTrips(@TempDir Path dir) throws IOException {
        SplittableRandom random = new SplittableRandom(2);
        float[][] images = new float[256][784];
        int[] labels = new int[256];
        for (int i = 0; i < images.length; i++) {
            labels[i] = i % 2;
            for (int j = 0; j < 784; j++) {
                boolean topHalf = j < 392;
                images[i][j] = (float) ((topHalf == (labels[i] == 0) ? 0.6 : -0.6) + 0.3 * random.nextGaussian());
            }
        }
        Classifier classifier = Classifier.train(images, labels, 2, 2, 1, new PrintStream(OutputStream.nullOutputStream()));
        assertTrue(classifier.accuracy(images, labels) > 0.95);

        INDArray input = Classifier.toInput(java.util.Arrays.copyOf(images, 8));
        assertArrayEquals(new long[] {8, 128}, classifier.features(input).shape());
        float[] first = classifier.probabilities(input).ravel().toFloatVector();
        assertArrayEquals(first, classifier.probabilities(input).ravel().toFloatVector(), "repeated output() calls differ");

        Path file = dir.resolve(Classifier.FILE_NAME);
        classifier.save(file);
        assertArrayEquals(first, Classifier.load(file).probabilities(input).ravel().toFloatVector(), 1e-6f);
        assertEquals(1.0, classifier.probabilities(input).sum(1).getDouble(0), 1e-5);

        List<Uint8Image> many = IntStream.range(0, 2100)
                .mapToObj(i -> Uint8Image.fromModelScale(images[i % images.length], 1, 28, 28)).toList();
        INDArray all = classifier.probabilities(many);
        assertArrayEquals(new long[] {2100, 2}, all.shape(), "many images go through in chunks, in order");
        for (int i : new int[] {0, 999, 1000, 2099}) {
            assertArrayEquals(classifier.probabilities(List.of(many.get(i))).ravel().toFloatVector(),
                    all.getRow(i).toFloatVector(), 1e-5f, "image " + i);
        }
    }
}

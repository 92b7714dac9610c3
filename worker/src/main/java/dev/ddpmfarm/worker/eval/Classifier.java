package dev.ddpmfarm.worker.eval;

import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.train.TrainingSet;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.weightinit.impl.XavierInitScheme;

/**
 * The project's Fashion-MNIST classifier, a SameDiff graph: two 3×3 conv + ReLU + 2×2 max-pool stages and a
 * 128-wide dense layer whose activations ({@code features}) are the feature space of the Fréchet distance, then a
 * softmax over the classes. It judges generated samples (class histogram, agreement with the requested class,
 * {@code minConfidence}). Images are {@code [N, 1, 28, 28]} on the project's data scale [-1, 1].
 * (DL4J's own {@code ConvolutionLayer} took the im2col path here and trained at under 300 images/s.)
 */
public final class Classifier {
    public static final String FILE_NAME = ModelCard.CLASSIFIER_FILE_NAME;
    private static final String INPUT = "x";
    private static final String LABEL = "label";
    private static final String FEATURES = "features";
    private static final String PROBABILITIES = "probabilities";
    /** Images a pass when there are many. */
    private static final int CHUNK = 1000;
    private static final int BATCH = 128;

    private final SameDiff sd;

    private Classifier(SameDiff sd) {
        this.sd = sd;
    }

    static SameDiff graph(int classes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder(INPUT, DataType.FLOAT, -1, 1, 28, 28);
        SDVariable label = sd.placeHolder(LABEL, DataType.FLOAT, -1, classes);
        SDVariable h = convReluPool(sd, x, "conv1", 1, 32);
        h = convReluPool(sd, h, "conv2", 32, 64);
        h = h.reshape(-1, 64 * 7 * 7);
        SDVariable features = sd.nn().relu(FEATURES, dense(sd, h, "dense", 64 * 7 * 7, 128), 0);
        SDVariable logits = dense(sd, features, "out", 128, classes);
        sd.nn().softmax(PROBABILITIES, logits, 1);
        sd.loss().softmaxCrossEntropy("loss", label, logits, null);
        return sd;
    }

    private static SDVariable convReluPool(SameDiff sd, SDVariable x, String name, int in, int out) {
        SDVariable w = sd.var(name + ".w", new XavierInitScheme('c', 9 * in, 9 * out), DataType.FLOAT, 3, 3, in, out);
        SDVariable b = sd.zero(name + ".b", DataType.FLOAT, out).convertToVariable();
        Conv2DConfig conv = Conv2DConfig.builder().kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).paddingMode(PaddingMode.VALID)
                .dataFormat("NCHW").build();
        SDVariable h = sd.nn().relu(sd.cnn().conv2d(x, w, b, conv), 0);
        return sd.cnn().maxPooling2d(h, Pooling2DConfig.builder().kH(2).kW(2).sH(2).sW(2).isNHWC(false).build());
    }

    /** {@code x·w + b}; never {@code sd.nn().linear}, which returned wrong values under memory reuse (PLATFORM-NOTES). */
    private static SDVariable dense(SameDiff sd, SDVariable x, String name, int in, int out) {
        SDVariable w = sd.var(name + ".w", new XavierInitScheme('c', in, out), DataType.FLOAT, in, out);
        SDVariable b = sd.zero(name + ".b", DataType.FLOAT, out).convertToVariable();
        return x.mmul(w).add(b);
    }

    /** Trains a fresh classifier with Adam (1e-3), batch 128, reshuffling every epoch. */
    public static Classifier train(float[][] images, int[] labels, int classes, int epochs, long seed, PrintStream log) {
        SameDiff sd = graph(classes, seed);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3)).l2(1e-4)
                .dataSetFeatureMapping(INPUT).dataSetLabelMapping(LABEL).build());
        int[] order = new int[images.length];
        Arrays.setAll(order, i -> i);
        SplittableRandom random = new SplittableRandom(seed);
        for (int epoch = 1; epoch <= epochs; epoch++) {
            TrainingSet.shuffle(order, random);
            float[][] x = new float[order.length][];
            int[] y = new int[order.length];
            for (int j = 0; j < order.length; j++) {
                x[j] = images[order[j]];
                y[j] = labels[order[j]];
            }
            long start = System.nanoTime();
            sd.fit(new ViewIterator(new DataSet(toInput(x), oneHot(y, classes)), BATCH), 1);
            log.printf("classifier epoch %d/%d: %.0f images/s%n", epoch, epochs,
                    order.length / ((System.nanoTime() - start) / 1e9));
        }
        return new Classifier(sd);
    }

    public static Classifier load(Path file) throws IOException {
        try {
            return new Classifier(SameDiff.fromFlatFile(file.toFile()));
        } catch (Exception e) {
            throw new IOException("cannot read the classifier " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the graph and its weights (without updater state) atomically. */
    public void save(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        sd.asFlatFile(tmp.toFile(), false);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Class probabilities {@code [N, classes]}. Synchronized, like {@link #features}: one SameDiff graph serves one
     * call at a time, and a worker asks from its sampling and its storing threads.
     */
    public synchronized INDArray probabilities(INDArray images) {
        return sd.output(Map.of(INPUT, images), PROBABILITIES).get(PROBABILITIES);
    }

    /**
     * Class probabilities {@code [N, classes]} of 8-bit images, as they are stored, {@value #CHUNK} images a pass (a
     * task may hold up to 100,000, whose first activations alone would take 10 GB).
     */
    public INDArray probabilities(List<Uint8Image> images) {
        if (images.size() > CHUNK) {
            List<INDArray> parts = new ArrayList<>();
            for (int from = 0; from < images.size(); from += CHUNK) {
                parts.add(probabilities(images.subList(from, Math.min(images.size(), from + CHUNK))).dup());
            }
            return Nd4j.vstack(parts);
        }
        float[][] rows = new float[images.size()][];
        for (int i = 0; i < rows.length; i++) {
            byte[] pixels = images.get(i).pixels();
            rows[i] = new float[pixels.length];
            for (int j = 0; j < pixels.length; j++) {
                rows[i][j] = Uint8Image.toModelScale(pixels[j] & 0xff);
            }
        }
        return probabilities(toInput(rows));
    }

    /** Penultimate-layer activations {@code [N, 128]}: the Fréchet distance's feature space. */
    public synchronized INDArray features(INDArray images) {
        return sd.output(Map.of(INPUT, images), FEATURES).get(FEATURES);
    }

    /** Fraction of {@code images} whose most probable class is their label. */
    public double accuracy(float[][] images, int[] labels) {
        int correct = 0;
        for (int from = 0; from < images.length; from += CHUNK) {
            int size = Math.min(CHUNK, images.length - from);
            INDArray predicted = probabilities(toInput(Arrays.copyOfRange(images, from, from + size))).argMax(1);
            for (int j = 0; j < size; j++) {
                if (predicted.getInt(j) == labels[from + j]) {
                    correct++;
                }
            }
        }
        return (double) correct / images.length;
    }

    /** Rows of flattened square images → {@code [N, 1, H, W]}. */
    public static INDArray toInput(float[][] images) {
        int d = images[0].length;
        float[] flat = new float[images.length * d];
        for (int i = 0; i < images.length; i++) {
            System.arraycopy(images[i], 0, flat, i * d, d);
        }
        int side = (int) Math.round(Math.sqrt(d));
        return Nd4j.create(flat, new long[] {images.length, 1, side, side}, 'c');
    }

    private static INDArray oneHot(int[] labels, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            y.putScalar(i, labels[i], 1.0);
        }
        return y;
    }
}

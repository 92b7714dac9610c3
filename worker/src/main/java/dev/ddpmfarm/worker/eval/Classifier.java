package dev.ddpmfarm.worker.eval;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The project's Fashion-MNIST classifier (DL4J): two 3×3 conv + max-pool stages and a 128-wide dense layer whose
 * activations are the features of the Fréchet distance. It judges generated samples (class histogram, agreement
 * with the requested class, {@code minConfidence} filtering). Images are {@code [N, 1, 28, 28]} on the data scale
 * [-1, 1] used everywhere in the project.
 */
public final class Classifier {
    public static final String FILE_NAME = "classifier.zip";
    private static final int FEATURE_LAYER = 4;

    private final MultiLayerNetwork net;

    private Classifier(MultiLayerNetwork net) {
        this.net = net;
    }

    static MultiLayerConfiguration configuration(int classes, long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.RELU)
                .l2(1e-4)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(32).convolutionMode(
                        org.deeplearning4j.nn.conf.ConvolutionMode.Same).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(64).convolutionMode(
                        org.deeplearning4j.nn.conf.ConvolutionMode.Same).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes).dropOut(0.5)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1))
                .build();
    }

    /** Trains a fresh classifier with Adam, batch 128, reshuffling every epoch. */
    public static Classifier train(float[][] images, int[] labels, int classes, int epochs, long seed, PrintStream log) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(classes, seed));
        net.init();
        int batch = 128;
        int[] order = new int[images.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int epoch = 1; epoch <= epochs; epoch++) {
            shuffle(order, random);
            long start = System.nanoTime();
            for (int from = 0; from < order.length; from += batch) {
                int size = Math.min(batch, order.length - from);
                float[][] x = new float[size][];
                int[] y = new int[size];
                for (int j = 0; j < size; j++) {
                    x[j] = images[order[from + j]];
                    y[j] = labels[order[from + j]];
                }
                net.fit(new DataSet(toInput(x), oneHot(y, classes)));
            }
            log.printf("classifier epoch %d/%d: loss %.4f, %.0f images/s%n", epoch, epochs, net.score(),
                    order.length / ((System.nanoTime() - start) / 1e9));
        }
        return new Classifier(net);
    }

    public static Classifier load(Path file) throws IOException {
        return new Classifier(ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false));
    }

    /** Writes the network (without updater state) atomically. */
    public void save(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        ModelSerializer.writeModel(net, tmp.toFile(), false);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Class probabilities {@code [N, classes]}. */
    public INDArray probabilities(INDArray images) {
        return net.output(images, false);
    }

    /** Penultimate-layer activations {@code [N, 128]}: the Fréchet distance's feature space. */
    public INDArray features(INDArray images) {
        return net.feedForwardToLayer(FEATURE_LAYER, images, false).get(FEATURE_LAYER + 1);
    }

    /** Fraction of {@code images} whose most probable class is their label. */
    public double accuracy(float[][] images, int[] labels) {
        int correct = 0;
        for (int from = 0; from < images.length; from += 1000) {
            int size = Math.min(1000, images.length - from);
            float[][] x = java.util.Arrays.copyOfRange(images, from, from + size);
            INDArray predicted = probabilities(toInput(x)).argMax(1);
            for (int j = 0; j < size; j++) {
                if (predicted.getInt(j) == labels[from + j]) {
                    correct++;
                }
            }
        }
        return (double) correct / images.length;
    }

    /** Rows of flattened 28×28 images → {@code [N, 1, 28, 28]}. */
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
        INDArray y = Nd4j.zeros(labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            y.putScalar(i, labels[i], 1.0);
        }
        return y;
    }

    private static void shuffle(int[] a, SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }
}

package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.worker.eval.Classifier;
import dev.ddpmfarm.worker.train.TrainingSet;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code farm bench augmentation --generated DIR}: is a generated dataset worth training on? The project's classifier
 * architecture is trained on R real training images (R / classes of each class, drawn by seed), on those plus the
 * generated dataset (an IDX pair, as {@code farm augment} downloads it), and on all 60,000 real images as the ceiling;
 * each sees the same number of images in all (the same optimizer steps), and each is tested on the 10,000 test images.
 * Prints the three accuracies and writes them to {@code --out}.
 */
public final class AugmentationBench {
    public static final String USAGE = "bench augmentation --generated DIR [--real 1000] [--presentations 360000] "
            + "[--seed 0] [--out FILE]";

    private AugmentationBench() {
    }

    /** One trained classifier's result. */
    record Result(String name, int trainImages, int epochs, double accuracy, double seconds) {
    }

    public static void main(String[] args) throws IOException {
        Args a = new Args(args);
        Path generatedDir = Path.of(a.value("--generated", null));
        int real = Integer.parseInt(a.value("--real", "1000"));
        long presentations = Long.parseLong(a.value("--presentations", "360000"));
        long seed = Long.parseLong(a.value("--seed", "0"));
        Path out = Path.of(a.value("--out", "target/augmentation-bench.txt"));

        TrainingSet train = TrainingSet.fashionMnist(FashionMnist.DEFAULT_DIR);
        TrainingSet test = TrainingSet.of(FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST),
                FashionMnist.CLASS_NAMES);
        TrainingSet generated = TrainingSet.load(generatedDir.toString());
        TrainingSet few = stratified(train, real, seed);

        List<Result> results = new ArrayList<>();
        results.add(run(real + " real", few, test, presentations, seed));
        results.add(run(real + " real + " + generated.size() + " generated", concat(few, generated), test,
                presentations, seed));
        results.add(run(train.size() + " real (ceiling)", train, test, presentations, seed));

        StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
                "classifier accuracy on the %d Fashion-MNIST test images, %,d training presentations each (seed %d)%n",
                test.size(), presentations, seed));
        for (Result r : results) {
            report.append(String.format(Locale.ROOT, "  %-34s %6.2f%%   (%d epochs of %d images, %.0f s)%n", r.name(),
                    100 * r.accuracy(), r.epochs(), r.trainImages(), r.seconds()));
        }
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
        System.err.println("written to " + out.toAbsolutePath());
    }

    private static Result run(String name, TrainingSet data, TrainingSet test, long presentations, long seed) {
        int epochs = (int) Math.max(1, Math.round((double) presentations / data.size()));
        System.err.printf("training on %s: %d epochs%n", name, epochs);
        long start = System.nanoTime();
        Classifier c = Classifier.train(data.images(), data.labels(), test.classes(), epochs, seed,
                new PrintStream(OutputStream.nullOutputStream()));
        double accuracy = c.accuracy(test.images(), test.labels());
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.printf("  %s: %.2f%% (%.0f s)%n", name, 100 * accuracy, seconds);
        return new Result(name, data.size(), epochs, accuracy, seconds);
    }

    /** {@code count / classes} images of every class, drawn without replacement by {@code seed}. */
    static TrainingSet stratified(TrainingSet set, int count, long seed) {
        int classes = set.classes();
        int[] order = new int[set.size()];
        Arrays.setAll(order, i -> i);
        TrainingSet.shuffle(order, new SplittableRandom(seed));
        int[] taken = new int[classes];
        List<Integer> picked = new ArrayList<>();
        for (int i : order) {
            if (taken[set.labels()[i]] < count / classes) {
                taken[set.labels()[i]]++;
                picked.add(i);
            }
        }
        return new TrainingSet(picked.stream().map(i -> set.images()[i]).toArray(float[][]::new),
                picked.stream().mapToInt(i -> set.labels()[i]).toArray(), set.shape(), set.classNames());
    }

    private static TrainingSet concat(TrainingSet a, TrainingSet b) {
        float[][] images = new float[a.size() + b.size()][];
        int[] labels = new int[images.length];
        System.arraycopy(a.images(), 0, images, 0, a.size());
        System.arraycopy(b.images(), 0, images, a.size(), b.size());
        System.arraycopy(a.labels(), 0, labels, 0, a.size());
        System.arraycopy(b.labels(), 0, labels, a.size(), b.size());
        return new TrainingSet(images, labels, a.shape(), a.classNames());
    }
}

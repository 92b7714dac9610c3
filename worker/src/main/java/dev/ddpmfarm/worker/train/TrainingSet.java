package dev.ddpmfarm.worker.train;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.data.LabeledImages;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Training images scaled to [-1, 1], flattened {@code [N, C·H·W]} in C, H, W order, with integer labels.
 *
 * @param images     one row per image
 * @param labels     class label per image (0-based)
 * @param shape      {@code [C, H, W]}
 * @param classNames one name per label
 */
public record TrainingSet(float[][] images, int[] labels, int[] shape, List<String> classNames) {

    public int size() {
        return images.length;
    }

    public int classes() {
        return classNames.size();
    }

    /**
     * The dataset a {@code --data} argument names: {@code fashion-mnist} (the Debian package's training split), a
     * directory holding an IDX image file and its label file ({@code *images-idx3-ubyte[.gz]},
     * {@code *labels-idx1-ubyte[.gz]}), or an image folder with one sub-directory of PNG files per class.
     */
    public static TrainingSet load(String spec) throws IOException {
        if (spec.equals("fashion-mnist")) {
            return fashionMnist(FashionMnist.DEFAULT_DIR);
        }
        Path dir = Path.of(spec);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--data " + spec + ": neither fashion-mnist nor a directory");
        }
        Optional<Path> idxImages = find(dir, "images-idx3-ubyte");
        if (idxImages.isPresent()) {
            Path labels = find(dir, "labels-idx1-ubyte").orElseThrow(() -> new IllegalArgumentException(
                    "--data " + spec + ": " + idxImages.get().getFileName() + " has no *labels-idx1-ubyte file beside it"));
            LabeledImages data = LabeledImages.readIdx(idxImages.get(), labels);
            int classes = java.util.Arrays.stream(data.labels()).max().orElse(0) + 1;
            return of(data, Stream.iterate(0, i -> i + 1).limit(classes).map(String::valueOf).toList());
        }
        return imageFolder(dir);
    }

    /** Fashion-MNIST's training split from the Debian package's gzipped IDX files in {@code dir}. */
    public static TrainingSet fashionMnist(Path dir) throws IOException {
        return of(FashionMnist.load(dir, FashionMnist.Split.TRAIN), FashionMnist.CLASS_NAMES);
    }

    /** 8-bit grayscale images as rows on the [-1, 1] scale. */
    public static TrainingSet of(LabeledImages data, List<String> classNames) {
        int d = data.imageSize();
        float[][] images = new float[data.count()][d];
        for (int i = 0; i < data.count(); i++) {
            for (int j = 0; j < d; j++) {
                images[i][j] = Uint8Image.toModelScale(data.pixel(i, j));
            }
        }
        return new TrainingSet(images, data.labels(), new int[] {1, data.height(), data.width()}, classNames);
    }

    /** {@code dir/<class>/*.png}, classes in name order; every image must share one size and channel count. */
    static TrainingSet imageFolder(Path dir) throws IOException {
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).sorted().toList();
        }
        if (classDirs.isEmpty()) {
            throw new IllegalArgumentException("--data " + dir + ": no IDX files and no class sub-directories of PNGs");
        }
        List<float[]> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int[] shape = null;
        for (int c = 0; c < classDirs.size(); c++) {
            List<Path> files;
            try (Stream<Path> s = Files.list(classDirs.get(c))) {
                files = s.filter(p -> p.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")).sorted().toList();
            }
            for (Path file : files) {
                Uint8Image image = Png.decode(Files.readAllBytes(file));
                int[] s = {image.channels(), image.height(), image.width()};
                if (shape == null) {
                    shape = s;
                } else if (!java.util.Arrays.equals(shape, s)) {
                    throw new IllegalArgumentException(file + " is " + java.util.Arrays.toString(s) + " (C, H, W), the"
                            + " images before it " + java.util.Arrays.toString(shape) + ": resize them to one size first");
                }
                images.add(image.chw());
                labels.add(c);
            }
        }
        if (images.isEmpty()) {
            throw new IllegalArgumentException("--data " + dir + ": the class directories hold no PNG files");
        }
        return new TrainingSet(images.toArray(float[][]::new), labels.stream().mapToInt(Integer::intValue).toArray(),
                shape, classDirs.stream().map(p -> p.getFileName().toString()).toList());
    }

    private static Optional<Path> find(Path dir, String marker) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().contains(marker)).sorted().findFirst();
        }
    }

    /** Shuffles {@code a} in place (Fisher–Yates, last to first): the order of epochs, batches and subsets. */
    public static void shuffle(int[] a, SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }
}

package dev.ddpmfarm.common.data;

import dev.ddpmfarm.common.wire.Dataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 60,000 training and 10,000 test images of clothing, 28×28
 * grayscale, in ten classes; installed as gzipped IDX files by the Debian package {@code dataset-fashion-mnist}.
 */
public final class FashionMnist {
    /** Where {@code dataset-fashion-mnist} installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The class names, by label. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The two splits and their file-name prefixes. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        public String prefix() {
            return prefix;
        }
    }

    private FashionMnist() {
    }

    /** The split a built-in dataset of the wire format names. */
    public static Split split(Dataset dataset) {
        return dataset == Dataset.FASHION_MNIST_TEST ? Split.TEST : Split.TRAIN;
    }

    /** A split from {@link #DEFAULT_DIR}. */
    public static LabeledImages load(Split split) throws IOException {
        return load(DEFAULT_DIR, split);
    }

    /** A split from {@code dir}; missing files fail with a message that says how to install them. */
    public static LabeledImages load(Path dir, Split split) throws IOException {
        Path images = dir.resolve(LabeledImages.imagesFile(split.prefix()));
        Path labels = dir.resolve(LabeledImages.labelsFile(split.prefix()));
        for (Path file : List.of(images, labels)) {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "Fashion-MNIST is not installed there; install it with"
                        + " `sudo apt-get install dataset-fashion-mnist` (files go to " + DEFAULT_DIR + ")");
            }
        }
        return LabeledImages.readIdx(images, labels);
    }
}

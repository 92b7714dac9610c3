package dev.ddpmfarm.worker.train;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.data.LabeledImages;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Training images scaled to [-1, 1], flattened row-major {@code [N, C·H·W]}, with integer labels.
 *
 * @param images   one row per image
 * @param labels   class label per image (0-based)
 * @param shape    {@code [C, H, W]}
 * @param classes  number of distinct labels
 */
public record TrainingSet(float[][] images, int[] labels, int[] shape, int classes) {

    public int size() {
        return images.length;
    }

    /** Fashion-MNIST's training split from the Debian package's gzipped IDX files in {@code dir}. */
    public static TrainingSet fashionMnist(Path dir) throws IOException {
        return of(FashionMnist.load(dir, FashionMnist.Split.TRAIN));
    }

    /** 8-bit images as rows on the [-1, 1] scale; the class count is Fashion-MNIST's. */
    public static TrainingSet of(LabeledImages data) {
        int d = data.imageSize();
        float[][] images = new float[data.count()][d];
        for (int i = 0; i < data.count(); i++) {
            for (int j = 0; j < d; j++) {
                images[i][j] = data.pixel(i, j) / 127.5f - 1f;
            }
        }
        return new TrainingSet(images, data.labels(), new int[] {1, data.height(), data.width()},
                FashionMnist.CLASS_NAMES.size());
    }
}

package dev.ddpmfarm.worker.train;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

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

    /** Fashion-MNIST's training split from the Debian package's gzipped IDX files. */
    public static TrainingSet fashionMnist(Path dir) throws IOException {
        byte[] pixels = readIdx(dir.resolve("train-images-idx3-ubyte.gz"), 0x803);
        byte[] labels = readIdx(dir.resolve("train-labels-idx1-ubyte.gz"), 0x801);
        int n = labels.length;
        int d = pixels.length / n;
        float[][] images = new float[n][d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                images[i][j] = (pixels[i * d + j] & 0xff) / 127.5f - 1f;
            }
            y[i] = labels[i];
        }
        return new TrainingSet(images, y, new int[] {1, 28, 28}, 10);
    }

    private static byte[] readIdx(Path file, int magic) throws IOException {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(file), 1 << 16))) {
            if (in.readInt() != magic) {
                throw new IOException(file + ": bad IDX magic");
            }
            int dims = magic & 0xff;
            long count = 1;
            for (int i = 0; i < dims; i++) {
                count *= in.readInt();
            }
            byte[] data = new byte[(int) count];
            in.readFully(data);
            return data;
        }
    }
}

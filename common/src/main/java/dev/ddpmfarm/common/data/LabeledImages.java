package dev.ddpmfarm.common.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * 8-bit grayscale images with a class label each, as a pair of IDX files holds them (Fashion-MNIST's format, and
 * the {@code idx} output of the farm's dataset generation).
 *
 * @param count  N
 * @param height H
 * @param width  W
 * @param pixels N·H·W bytes, row-major {@code [N, H, W]}, 0 = black
 * @param labels N class labels in 0 … 255
 */
public record LabeledImages(int count, int height, int width, byte[] pixels, int[] labels) {

    public LabeledImages {
        if (count < 0 || height < 1 || width < 1) {
            throw new IllegalArgumentException("need count >= 0 and a positive image size, got " + count + " x "
                    + height + " x " + width);
        }
        if (pixels == null || pixels.length != (long) count * height * width) {
            throw new IllegalArgumentException(count + " images of " + height + "x" + width + " need "
                    + (long) count * height * width + " pixels");
        }
        if (labels == null || labels.length != count) {
            throw new IllegalArgumentException(count + " images need " + count + " labels");
        }
        for (int label : labels) {
            if (label < 0 || label > 255) {
                throw new IllegalArgumentException("labels must lie in 0..255, got " + label);
            }
        }
    }

    /** H·W. */
    public int imageSize() {
        return height * width;
    }

    /** Pixel {@code offset} (row-major within the image) of image {@code i}, as an unsigned value 0 … 255. */
    public int pixel(int i, int offset) {
        return pixels[i * imageSize() + offset] & 0xff;
    }

    /** Reads an image file {@code [N, H, W]} and its label file {@code [N]}, checking that they belong together. */
    public static LabeledImages readIdx(Path images, Path labels) throws IOException {
        IdxArray x = IdxArray.read(images);
        IdxArray y = IdxArray.read(labels);
        int[] xs = x.shape();
        int[] ys = y.shape();
        if (xs.length != 3) {
            throw new IdxFormatException(images + ": expected images of shape [N, H, W], got " + Arrays.toString(xs));
        }
        if (ys.length != 1 || ys[0] != xs[0]) {
            throw new IdxFormatException(labels + ": expected " + xs[0] + " labels of shape [N], got " + Arrays.toString(ys));
        }
        int[] l = new int[ys[0]];
        byte[] raw = y.data();
        for (int i = 0; i < l.length; i++) {
            l[i] = raw[i] & 0xff;
        }
        return new LabeledImages(xs[0], xs[1], xs[2], x.data(), l);
    }

    /**
     * Writes {@code dir/{prefix}-images-idx3-ubyte.gz} and {@code dir/{prefix}-labels-idx1-ubyte.gz}, the file names
     * Fashion-MNIST uses (prefix {@code train} or {@code t10k}), so any MNIST loader reads them.
     */
    public void writeIdx(Path dir, String prefix) throws IOException {
        byte[] y = new byte[count];
        for (int i = 0; i < count; i++) {
            y[i] = (byte) labels[i];
        }
        new IdxArray(new int[] {count, height, width}, pixels).write(dir.resolve(imagesFile(prefix)));
        new IdxArray(new int[] {count}, y).write(dir.resolve(labelsFile(prefix)));
    }

    /** {@code {prefix}-images-idx3-ubyte.gz}. */
    public static String imagesFile(String prefix) {
        return prefix + "-images-idx3-ubyte.gz";
    }

    /** {@code {prefix}-labels-idx1-ubyte.gz}. */
    public static String labelsFile(String prefix) {
        return prefix + "-labels-idx1-ubyte.gz";
    }
}

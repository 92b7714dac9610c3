package dev.ddpmfarm.worker.output;

/**
 * An 8-bit image, row-major with interleaved channels ({@code [H, W, C]}), as PNG and {@code .npy} files store it.
 *
 * @param height   H
 * @param width    W
 * @param channels C: 1 (grayscale) or 3 (RGB)
 * @param pixels   H·W·C values 0 … 255
 */
public record Uint8Image(int height, int width, int channels, byte[] pixels) {

    public Uint8Image {
        if (height < 1 || width < 1 || (channels != 1 && channels != 3)) {
            throw new IllegalArgumentException("need a positive size and 1 or 3 channels, got " + height + "x" + width
                    + "x" + channels);
        }
        if (pixels == null || pixels.length != height * width * channels) {
            throw new IllegalArgumentException(height + "x" + width + "x" + channels + " needs "
                    + height * width * channels + " pixels");
        }
    }

    /**
     * A model-scale image {@code [C, H, W]} with values in [-1, 1] (the data scaling of the paper's §4) as 8-bit
     * pixels: (x + 1) · 127.5, rounded to the nearest integer and clipped to 0 … 255.
     */
    public static Uint8Image fromModelScale(float[] chw, int channels, int height, int width) {
        if (chw.length != channels * height * width) {
            throw new IllegalArgumentException("[C, H, W] = [" + channels + ", " + height + ", " + width + "] needs "
                    + channels * height * width + " values, got " + chw.length);
        }
        byte[] hwc = new byte[chw.length];
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < plane; p++) {
                hwc[p * channels + c] = (byte) toUint8(chw[c * plane + p]);
            }
        }
        return new Uint8Image(height, width, channels, hwc);
    }

    /** The image as the model takes it: {@code [C, H, W]} floats on [-1, 1], the inverse of {@link #fromModelScale}. */
    public float[] chw() {
        float[] out = new float[channels * height * width];
        int plane = height * width;
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < channels; c++) {
                out[c * plane + p] = toModelScale(pixels[p * channels + c] & 0xff);
            }
        }
        return out;
    }

    /** Pixel value p (0 … 255) on the model's [-1, 1] scale: p / 127.5 − 1, the inverse of {@link #toUint8}. */
    public static float toModelScale(int p) {
        return p / 127.5f - 1f;
    }

    /** (x + 1) · 127.5 rounded and clipped to 0 … 255; NaN maps to 0. */
    public static int toUint8(float x) {
        return (int) Math.max(0, Math.min(255, Math.round((x + 1) * 127.5)));
    }

    /** The value of channel {@code c} at ({@code row}, {@code col}), 0 … 255. */
    public int get(int row, int col, int c) {
        return pixels[(row * width + col) * channels + c] & 0xff;
    }
}

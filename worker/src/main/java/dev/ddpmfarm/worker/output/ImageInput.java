package dev.ddpmfarm.worker.output;

import dev.ddpmfarm.common.data.PngHeader;
import java.io.IOException;
import java.util.Arrays;

/**
 * Turns an uploaded PNG into a model input {@code [C, H, W]} on the [-1, 1] scale of the paper's §4, the way a user
 * would expect: the file is checked before it is decoded, converted to the model's channels and resized to its size.
 *
 * <ul>
 *   <li>Channels: grayscale stays grayscale; RGB, RGBA and palette images become gray by ITU-R BT.601 luma
 *       (0.299 R + 0.587 G + 0.114 B) for a one-channel model, a gray image is repeated for a three-channel one.
 *       Alpha is ignored, not composited: {@link Png#decode} drops it, as it does for the training images.</li>
 *   <li>Depth: 16-bit samples are rounded to 8 bits ({@link Png#decode}).</li>
 *   <li>Size: area averaging where the image shrinks, bilinear interpolation (pixel centres aligned) where it
 *       grows; the result is rounded to 8 bits, so the input holds only values the training data can hold. Only an
 *       image whose aspect ratio is within 1% of the model's is resized: cropping or padding it would be a guess.</li>
 *   <li>Scale: pixel p (0 … 255) becomes p / 127.5 − 1, the inverse of {@link Uint8Image#fromModelScale}.</li>
 * </ul>
 *
 * <p>Every rejection is an {@link IllegalArgumentException} whose message says what is wrong with the file, for the
 * user who sent it. Width and height are read from the IHDR chunk and checked against a pixel limit before anything
 * is decoded, so a small file declaring a huge image (a decompression bomb) allocates nothing.
 */
public final class ImageInput {

    private final int channels;
    private final int height;
    private final int width;
    private final long maxPixels;

    /** Inputs for a model of images {@code shape = {C, H, W}}, C 1 or 3, at most {@link PngHeader#MAX_PIXELS}. */
    public ImageInput(int[] shape) {
        this(shape, PngHeader.MAX_PIXELS);
    }

    /** Inputs for a model whose images are {@code shape = {C, H, W}}, C 1 or 3, at most {@code maxPixels}. */
    public ImageInput(int[] shape, long maxPixels) {
        if (shape.length != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[2] < 1) {
            throw new IllegalArgumentException("an image shape is {C, H, W} with C 1 or 3 and H, W positive, got "
                    + Arrays.toString(shape));
        }
        if (maxPixels < 1) {
            throw new IllegalArgumentException("the pixel limit must be positive, got " + maxPixels);
        }
        this.channels = shape[0];
        this.height = shape[1];
        this.width = shape[2];
        this.maxPixels = maxPixels;
    }

    /**
     * The model input of a PNG file: {@code [C, H, W]} values on [-1, 1], row-major.
     *
     * @throws IllegalArgumentException the file is not a PNG, is corrupt or truncated, declares an empty image or
     *                                  more pixels than the limit, or has another aspect ratio than the model
     */
    public float[] read(byte[] png) {
        PngHeader header = PngHeader.read(png, maxPixels);
        if (!header.fits(width, height)) {
            throw new IllegalArgumentException(header.misfit(width, height));
        }
        Uint8Image image;
        try {
            image = Png.decode(png);
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt or truncated PNG (" + png.length + " bytes): " + e.getMessage(),
                    e);
        }
        Resampler alongRows = Resampler.of(image.width(), width);
        Resampler alongColumns = Resampler.of(image.height(), height);
        float[] line = new float[image.width()];
        float[] resizedRows = new float[image.height() * width];
        float[] column = new float[image.height()];
        float[] resizedColumn = new float[height];
        float[] out = new float[channels * height * width];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < image.height(); y++) {
                for (int x = 0; x < image.width(); x++) {
                    line[x] = value(image, y, x, c);
                }
                alongRows.apply(line, resizedRows, y * width);
            }
            for (int x = 0; x < width; x++) {
                for (int y = 0; y < image.height(); y++) {
                    column[y] = resizedRows[y * width + x];
                }
                alongColumns.apply(column, resizedColumn, 0);
                for (int y = 0; y < height; y++) {
                    out[(c * height + y) * width + x] = Uint8Image.toModelScale(Math.round(resizedColumn[y]));
                }
            }
        }
        return out;
    }

    /** Channel {@code c} of the model's image at ({@code y}, {@code x}) of the decoded one, 0 … 255. */
    private float value(Uint8Image image, int y, int x, int c) {
        if (image.channels() == channels) {
            return image.get(y, x, c);
        }
        if (channels == 1) {
            return 0.299f * image.get(y, x, 0) + 0.587f * image.get(y, x, 1) + 0.114f * image.get(y, x, 2);
        }
        return image.get(y, x, 0);
    }

    /**
     * One axis of a resize from {@code n} to {@code m} samples: output sample j is the weighted sum of input samples
     * {@code first[j]}, {@code first[j] + 1}, … with {@code weights[j]}.
     */
    private record Resampler(int[] first, float[][] weights) {

        /** Area averaging for {@code m ≤ n} (exactly the identity for {@code m = n}), bilinear for {@code m > n}. */
        static Resampler of(int n, int m) {
            int[] first = new int[m];
            float[][] weights = new float[m][];
            for (int j = 0; j < m; j++) {
                if (m <= n) {
                    // in 1/m of an input sample: input i spans [i·m, (i+1)·m), output j spans [j·n, (j+1)·n)
                    long lo = (long) j * n;
                    long hi = lo + n;
                    first[j] = (int) (lo / m);
                    int last = (int) ((hi - 1) / m);
                    weights[j] = new float[last - first[j] + 1];
                    for (int i = first[j]; i <= last; i++) {
                        long overlap = Math.min(hi, (long) (i + 1) * m) - Math.max(lo, (long) i * m);
                        weights[j][i - first[j]] = (float) overlap / n;
                    }
                } else {
                    double u = Math.min(n - 1, Math.max(0, (j + 0.5) * n / m - 0.5));
                    first[j] = Math.min((int) u, Math.max(0, n - 2));
                    float f = (float) (u - first[j]);
                    weights[j] = n == 1 ? new float[] {1f} : new float[] {1 - f, f};
                }
            }
            return new Resampler(first, weights);
        }

        /** Resamples {@code in} into {@code out} from index {@code offset} on. */
        void apply(float[] in, float[] out, int offset) {
            for (int j = 0; j < first.length; j++) {
                float sum = 0;
                for (int k = 0; k < weights[j].length; k++) {
                    sum += weights[j][k] * in[first[j] + k];
                }
                out[offset + j] = sum;
            }
        }
    }
}

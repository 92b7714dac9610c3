package dev.ddpmfarm.common.data;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The size a PNG file declares, read from its signature and IHDR chunk without decoding anything, so an upload can be
 * judged before a pixel is inflated: the gateway rejects a bad one with a 422 naming the field, the worker checks
 * again before it decodes (a small file declaring a huge image, a decompression bomb, allocates nothing).
 *
 * @param width  pixels per row, at least 1
 * @param height rows, at least 1
 */
public record PngHeader(long width, long height) {
    /** The most pixels (width × height) an uploaded image may declare. */
    public static final long MAX_PIXELS = 4096L * 4096;

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /** The signature, then the IHDR chunk's length (13) and type; width and height follow at bytes 16 … 23. */
    private static final int HEADER_BYTES = 24;

    /**
     * The header of {@code png}, which must declare a non-empty image of at most {@code maxPixels} pixels.
     *
     * @throws IllegalArgumentException saying what is wrong: not a PNG, no IHDR, an empty or too large image
     */
    public static PngHeader read(byte[] png, long maxPixels) {
        if (png.length < SIGNATURE.length || !Arrays.equals(png, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length)) {
            throw new IllegalArgumentException("not a PNG file: it does not start with the 8-byte PNG signature ("
                    + png.length + " bytes)");
        }
        if (png.length < HEADER_BYTES || !"IHDR".equals(new String(png, 12, 4, StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException("corrupt PNG: the signature is not followed by an IHDR header chunk ("
                    + png.length + " bytes)");
        }
        long w = Integer.toUnsignedLong(bigEndianInt(png, 16));
        long h = Integer.toUnsignedLong(bigEndianInt(png, 20));
        if (w == 0 || h == 0) {
            throw new IllegalArgumentException("the PNG declares a " + w + "×" + h + " image (width×height): width"
                    + " and height must be positive");
        }
        if (w * h > maxPixels) {
            throw new IllegalArgumentException("the PNG declares a " + w + "×" + h + " image (width×height), " + w * h
                    + " pixels: too large, the limit is " + maxPixels + " pixels");
        }
        return new PngHeader(w, h);
    }

    /**
     * Whether an image of this size can be resized to {@code targetWidth × targetHeight} without a guess: aspect
     * ratios within 1%; otherwise cropping, padding or stretching would be the farm's choice, not the user's.
     */
    public boolean fits(int targetWidth, int targetHeight) {
        double ratio = ((double) width / height) / ((double) targetWidth / targetHeight);
        return Math.abs(ratio - 1) <= 0.01;
    }

    /** Why this image cannot be fitted to the model's size. */
    public String misfit(int targetWidth, int targetHeight) {
        return "the image is " + width + "×" + height + " (width×height) and the model takes " + targetWidth + "×"
                + targetHeight + ": their aspect ratios differ by more than 1%, so how to fit it (crop, pad or stretch)"
                + " is ambiguous; crop it to the model's aspect ratio first";
    }

    private static int bigEndianInt(byte[] bytes, int offset) {
        return (bytes[offset] & 0xff) << 24 | (bytes[offset + 1] & 0xff) << 16 | (bytes[offset + 2] & 0xff) << 8
                | bytes[offset + 3] & 0xff;
    }
}

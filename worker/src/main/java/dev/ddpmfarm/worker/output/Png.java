package dev.ddpmfarm.worker.output;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** PNG encoding and decoding of {@link Uint8Image}s (8-bit grayscale or RGB) through {@code javax.imageio}. */
public final class Png {
    public static final String MEDIA_TYPE = "image/png";

    private Png() {
    }

    /** The PNG file of an image: 8-bit grayscale for one channel, 8-bit RGB for three. */
    public static byte[] encode(Uint8Image image) {
        BufferedImage buffered = new BufferedImage(image.width(), image.height(),
                image.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster raster = buffered.getRaster();
        int[] samples = new int[image.pixels().length];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = image.pixels()[i] & 0xff;
        }
        raster.setPixels(0, 0, image.width(), image.height(), samples);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(buffered, "png", out)) {
                throw new IllegalStateException("no PNG writer available in javax.imageio");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Writes the PNG of an image to {@code file}, creating its directory. */
    public static void write(Path file, Uint8Image image) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.write(file, encode(image));
    }

    /**
     * Decodes a PNG (or any format {@code javax.imageio} reads). Grayscale stays one channel: gray samples of any
     * bit depth (16-bit ones rounded to 8 bits) and palettes whose every entry is gray. Anything else becomes 8-bit
     * RGB through the image's colour model. Alpha is dropped, not composited.
     */
    public static Uint8Image decode(byte[] file) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(file));
        if (image == null) {
            throw new IOException("not a PNG or other readable image (" + file.length + " bytes)");
        }
        int h = image.getHeight();
        int w = image.getWidth();
        ColorModel model = image.getColorModel();
        if (model.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // the raster, not getRGB, which would convert linear gray to sRGB and brighten every mid-tone
            int[] samples = image.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
            int max = (1 << image.getSampleModel().getSampleSize(0)) - 1;
            byte[] pixels = new byte[samples.length];
            for (int i = 0; i < samples.length; i++) {
                pixels[i] = (byte) ((samples[i] * 255 + max / 2) / max);
            }
            return new Uint8Image(h, w, 1, pixels);
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        if (model instanceof IndexColorModel palette && isGray(palette)) {
            byte[] pixels = new byte[argb.length];
            for (int i = 0; i < argb.length; i++) {
                pixels[i] = (byte) argb[i];
            }
            return new Uint8Image(h, w, 1, pixels);
        }
        byte[] pixels = new byte[h * w * 3];
        for (int i = 0; i < argb.length; i++) {
            pixels[3 * i] = (byte) (argb[i] >> 16);
            pixels[3 * i + 1] = (byte) (argb[i] >> 8);
            pixels[3 * i + 2] = (byte) argb[i];
        }
        return new Uint8Image(h, w, 3, pixels);
    }

    /** Whether every entry of a palette has red = green = blue (what PNG grayscale of 1, 2 or 4 bits decodes to). */
    private static boolean isGray(IndexColorModel palette) {
        for (int i = 0; i < palette.getMapSize(); i++) {
            if (palette.getRed(i) != palette.getGreen(i) || palette.getGreen(i) != palette.getBlue(i)) {
                return false;
            }
        }
        return true;
    }
}

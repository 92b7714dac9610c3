package dev.ddpmfarm.worker.output;

import java.awt.image.BufferedImage;
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
     * Decodes a PNG (or any format {@code javax.imageio} reads): 8-bit grayscale stays one channel, anything else
     * becomes RGB (alpha dropped).
     */
    public static Uint8Image decode(byte[] file) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(file));
        if (image == null) {
            throw new IOException("not a PNG or other readable image (" + file.length + " bytes)");
        }
        int h = image.getHeight();
        int w = image.getWidth();
        if (image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            int[] samples = image.getRaster().getPixels(0, 0, w, h, (int[]) null);
            byte[] pixels = new byte[samples.length];
            for (int i = 0; i < samples.length; i++) {
                pixels[i] = (byte) samples[i];
            }
            return new Uint8Image(h, w, 1, pixels);
        }
        byte[] pixels = new byte[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                int o = (y * w + x) * 3;
                pixels[o] = (byte) (rgb >> 16);
                pixels[o + 1] = (byte) (rgb >> 8);
                pixels[o + 2] = (byte) rgb;
            }
        }
        return new Uint8Image(h, w, 3, pixels);
    }
}

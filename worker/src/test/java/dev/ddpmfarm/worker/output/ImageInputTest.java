package dev.ddpmfarm.worker.output;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ImageInputTest {
    private static final ImageInput GRAY_28 = new ImageInput(new int[] {1, 28, 28});

    @Test
    @DisplayName("a 28×28 grayscale PNG becomes the model input whose 8-bit image is the same pixels")
    void grayRoundTrip() {
        byte[] pixels = new byte[28 * 28];
        new SplittableRandom(3).nextBytes(pixels);
        float[] x = GRAY_28.read(Png.encode(new Uint8Image(28, 28, 1, pixels)));
        assertEquals(28 * 28, x.length);
        assertArrayEquals(pixels, Uint8Image.fromModelScale(x, 1, 28, 28).pixels());
        assertEquals(pixels[0] & 0xff, Math.round((x[0] + 1) * 127.5f), "p ↦ p / 127.5 − 1");
    }

    @Test
    @DisplayName("an RGB image twice the size becomes its BT.601 luma, each output pixel the mean of a 2×2 block")
    void rgbShrinks() {
        byte[] rgb = new byte[56 * 56 * 3];
        for (int i = 0; i < 56 * 56; i++) {
            rgb[3 * i] = (byte) 200;
            rgb[3 * i + 1] = (byte) 100;
            rgb[3 * i + 2] = (byte) 50;
        }
        float[] x = GRAY_28.read(Png.encode(new Uint8Image(56, 56, 3, rgb)));
        assertEquals(28 * 28, x.length);
        float luma = Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 127.5f - 1f;
        for (float v : x) {
            assertEquals(luma, v, "124.2 rounds to 124");
        }
        byte[] checkerboard = new byte[56 * 56];
        for (int y = 0; y < 56; y++) {
            for (int c = 0; c < 56; c++) {
                checkerboard[y * 56 + c] = (byte) ((y + c) % 2 == 0 ? 255 : 0);
            }
        }
        float[] averaged = GRAY_28.read(Png.encode(new Uint8Image(56, 56, 1, checkerboard)));
        for (float v : averaged) {
            assertEquals(128 / 127.5f - 1f, v, "area averaging: (255 + 0 + 255 + 0) / 4 = 127.5 rounds to 128");
        }
    }

    @Test
    @DisplayName("an image enlarged 2× is interpolated bilinearly between pixel centres, edges held")
    void grayEnlarges() {
        byte[] twoByTwo = {0, (byte) 255, 0, (byte) 255};
        float[] x = new ImageInput(new int[] {1, 4, 4}).read(Png.encode(new Uint8Image(2, 2, 1, twoByTwo)));
        byte[] row = {0, 64, (byte) 191, (byte) 255};
        byte[] expected = new byte[16];
        for (int y = 0; y < 4; y++) {
            System.arraycopy(row, 0, expected, 4 * y, 4);
        }
        assertArrayEquals(expected, Uint8Image.fromModelScale(x, 1, 4, 4).pixels());
    }

    @Test
    @DisplayName("an RGBA PNG becomes the luma of its colour, alpha ignored")
    void rgba() throws IOException {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                image.setRGB(x, y, (x < 14 ? 0x80 : 0xff) << 24 | 0x00ff00);
            }
        }
        byte[] png = write(image);
        assertEquals(6, png[25], "PNG colour type 6: RGB with alpha");
        float green = Math.round(0.587 * 255) / 127.5f - 1f;
        for (float v : GRAY_28.read(png)) {
            assertEquals(green, v);
        }
    }

    @Test
    @DisplayName("16-bit and 1-bit grayscale PNGs decode to one 8-bit channel without a gamma shift; a 3-channel model"
            + " gets the gray in every channel")
    void grayDepths() throws IOException {
        BufferedImage sixteen = new BufferedImage(28, 28, BufferedImage.TYPE_USHORT_GRAY);
        short[] samples = new short[28 * 28];
        Arrays.fill(samples, (short) 0x8080);
        sixteen.getRaster().setDataElements(0, 0, 28, 28, samples);
        byte[] png = write(sixteen);
        assertEquals(16, png[24], "bit depth 16");
        Uint8Image decoded = Png.decode(png);
        assertEquals(1, decoded.channels());
        assertEquals(128, decoded.get(5, 5, 0), "0x8080 / 65535 · 255 = 128.0");
        float[] rgbModel = new ImageInput(new int[] {3, 28, 28}).read(png);
        for (float v : rgbModel) {
            assertEquals(128 / 127.5f - 1f, v);
        }

        BufferedImage binary = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_BINARY);
        binary.setRGB(3, 2, 0xffffff);
        Uint8Image bits = Png.decode(write(binary));
        assertEquals(1, bits.channels());
        assertEquals(255, bits.get(2, 3, 0));
        assertEquals(0, bits.get(3, 2, 0));
    }

    @Test
    @DisplayName("an image whose aspect ratio is not the model's is rejected as ambiguous, naming its size")
    void ambiguousAspect() {
        byte[] tall = Png.encode(new Uint8Image(1000, 1, 1, new byte[1000]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GRAY_28.read(tall));
        assertTrue(e.getMessage().contains("1×1000") && e.getMessage().contains("ambiguous"), e.getMessage());
        float[] nearlySquare = GRAY_28.read(Png.encode(new Uint8Image(280, 282, 1, new byte[280 * 282])));
        assertEquals(28 * 28, nearlySquare.length, "282:280 is within 1% of square");
    }

    @Test
    @DisplayName("a file that is not a PNG, a truncated PNG and a PNG declaring a 0×0 image fail with what is wrong")
    void malformed() {
        assertMessage("not a PNG", "GIF89a not a png at all".getBytes(StandardCharsets.US_ASCII));
        assertMessage("not a PNG", new byte[] {(byte) 0x89, 'P'});
        byte[] noise = new byte[28 * 28];
        new SplittableRandom(4).nextBytes(noise);
        byte[] png = Png.encode(new Uint8Image(28, 28, 1, noise));
        assertMessage("truncated", Arrays.copyOf(png, png.length / 2));
        assertMessage("0×0", header(0, 0));
        assertMessage("IHDR", Arrays.copyOf(png, 20));
    }

    @Test
    @DisplayName("a header declaring 100000×100000 pixels is rejected before decoding, as is one over a lower limit")
    void decompressionBomb() {
        assertMessage("too large", header(100_000, 100_000));
        byte[] small = Png.encode(new Uint8Image(28, 28, 1, new byte[28 * 28]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ImageInput(new int[] {1, 28, 28}, 28 * 27).read(small));
        assertTrue(e.getMessage().contains("784 pixels: too large"), e.getMessage());
    }

    private static void assertMessage(String expected, byte[] file) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GRAY_28.read(file));
        assertTrue(e.getMessage().contains(expected), "\"" + expected + "\" not in: " + e.getMessage());
    }

    /** A well-formed PNG of an 8-bit grayscale {@code width}×{@code height} image with no pixel data. */
    private static byte[] header(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        out.writeBytes(chunk("IHDR", ihdr.array()));
        out.writeBytes(chunk("IEND", new byte[0]));
        return out.toByteArray();
    }

    private static byte[] chunk(String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(typeBytes).put(data)
                .putInt((int) crc.getValue()).array();
    }

    private static byte[] write(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "png", out));
        return out.toByteArray();
    }
}

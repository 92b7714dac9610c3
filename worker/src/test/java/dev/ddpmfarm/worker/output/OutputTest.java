package dev.ddpmfarm.worker.output;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputTest {
    @TempDir
    Path dir;

    private static Uint8Image ramp(int h, int w, int c, int offset) {
        byte[] pixels = new byte[h * w * c];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 7 + offset);
        }
        return new Uint8Image(h, w, c, pixels);
    }

    @Test
    @DisplayName("[-1, 1] maps to [0, 255] by (x+1)·127.5, rounded to nearest and clipped; [C,H,W] becomes [H,W,C]")
    void modelScale() {
        assertEquals(0, Uint8Image.toUint8(-1f));
        assertEquals(255, Uint8Image.toUint8(1f));
        assertEquals(128, Uint8Image.toUint8(0f), "127.5 rounds up");
        assertEquals(0, Uint8Image.toUint8(-3f));
        assertEquals(255, Uint8Image.toUint8(7f));
        assertEquals(0, Uint8Image.toUint8(Float.NaN));
        for (int p = 0; p < 256; p++) {
            assertEquals(p, Uint8Image.toUint8(p / 127.5f - 1f), "the data scaling inverts exactly");
        }
        float[] chw = {-1f, 1f, 0f, -1f, 1f, 1f};
        Uint8Image rgb = Uint8Image.fromModelScale(chw, 3, 1, 2);
        assertArrayEquals(new byte[] {0, (byte) 128, (byte) 255, (byte) 255, 0, (byte) 255}, rgb.pixels());
        assertEquals(0, rgb.get(0, 1, 1));
    }

    @Test
    @DisplayName("grayscale and RGB PNGs decode to the pixels they were encoded from")
    void pngRoundTrip() throws IOException {
        for (int channels : new int[] {1, 3}) {
            Uint8Image image = ramp(5, 7, channels, channels);
            byte[] png = Png.encode(image);
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
            assertEquals(channels == 1 ? 0 : 2, png[25], "PNG colour type: 0 grayscale, 2 RGB");
            Uint8Image back = Png.decode(png);
            assertEquals(channels, back.channels());
            assertArrayEquals(image.pixels(), back.pixels());
        }
        Png.write(dir.resolve("a/b.png"), ramp(2, 2, 1, 0));
        assertTrue(Files.size(dir.resolve("a/b.png")) > 0);
        assertThrows(IOException.class, () -> Png.decode(new byte[] {1, 2, 3}));
    }

    @Test
    @DisplayName("images become uint8 .npy [N,H,W] (one channel) or [N,H,W,C] with a NumPy header aligned to 64 bytes")
    void npyImages() throws IOException {
        Npy.Uint8Array gray = Npy.images(List.of(ramp(2, 3, 1, 0), ramp(2, 3, 1, 1)));
        assertArrayEquals(new int[] {2, 2, 3}, gray.shape());
        byte[] file = gray.encode();
        String header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }";
        assertEquals(header, new String(file, 10, header.length(), StandardCharsets.US_ASCII));
        assertEquals('\n', file[127], "the data starts at byte 128, as with np.save");
        assertEquals(128 + 12, file.length);
        Npy.Uint8Array back = Npy.readUint8(file);
        assertArrayEquals(gray.shape(), back.shape());
        assertArrayEquals(gray.data(), back.data());
        assertArrayEquals(new int[] {1, 2, 3, 3}, Npy.images(List.of(ramp(2, 3, 3, 0))).shape());
        assertThrows(IOException.class, () -> Npy.readFloat32(file));
        assertThrows(IllegalArgumentException.class, () -> Npy.images(List.of(ramp(2, 3, 1, 0), ramp(3, 2, 1, 0))));
    }

    @Test
    @DisplayName("files written by NumPy's np.save read back with their shape and values")
    void readsNumpyFiles() throws IOException {
        Npy.Uint8Array bytes = Npy.readUint8(resource("numpy-uint8-2x2x3.npy"));
        assertArrayEquals(new int[] {2, 2, 3}, bytes.shape());
        assertEquals(11 * 20, bytes.data()[11] & 0xff);
        Npy.Float32Array floats = Npy.readFloat32(resource("numpy-float32-2x3.npy"));
        assertArrayEquals(new int[] {2, 3}, floats.shape());
        assertArrayEquals(new float[] {-1.5f, 0f, 3.25f, 1e-3f, 2f, -7f}, floats.data());
    }

    private static byte[] resource(String name) throws IOException {
        try (var in = OutputTest.class.getResourceAsStream("/npy/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    @DisplayName("float32 .npy checkpoints of x_t read back exactly, 1-d shapes written as (n,)")
    void npyFloats() throws IOException {
        float[] x = {-1.5f, 0f, 3.25f, Float.MIN_VALUE, -0f, 1e30f};
        Npy.Float32Array array = new Npy.Float32Array(new int[] {2, 1, 3}, x);
        Npy.Float32Array back = Npy.readFloat32(array.encode());
        assertArrayEquals(new int[] {2, 1, 3}, back.shape());
        assertArrayEquals(x, back.data());
        byte[] vector = new Npy.Float32Array(new int[] {6}, x).encode();
        assertTrue(new String(vector, 10, 60, StandardCharsets.US_ASCII).contains("'descr': '<f4'"));
        assertTrue(new String(vector, 10, 60, StandardCharsets.US_ASCII).contains("'shape': (6,)"));
        assertThrows(IOException.class, () -> Npy.readFloat32(Arrays.copyOf(vector, vector.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> new Npy.Float32Array(new int[] {5}, x));
    }

    @Test
    @DisplayName("a grid of N images has ⌈√N⌉ columns and 2px of black padding between and around the tiles")
    void grid() {
        List<Uint8Image> images = List.of(ramp(3, 4, 1, 10), ramp(3, 4, 1, 20), ramp(3, 4, 1, 30), ramp(3, 4, 1, 40),
                ramp(3, 4, 1, 50));
        Uint8Image grid = Grid.of(images);
        assertEquals(2 * (3 + 2) + 2, grid.height());
        assertEquals(3 * (4 + 2) + 2, grid.width());
        assertEquals(images.get(0).get(0, 0, 0), grid.get(2, 2, 0));
        assertEquals(images.get(4).get(2, 3, 0), grid.get(2 + 5 + 2, 2 + 6 + 3, 0));
        assertEquals(0, grid.get(0, 0, 0));
        assertEquals(0, grid.get(6, 7, 0), "padding between tiles");
        assertEquals(0, grid.get(8, 15, 0), "the missing sixth tile stays black");
        assertEquals(3, Grid.of(List.of(ramp(2, 2, 3, 0))).channels());
    }
}

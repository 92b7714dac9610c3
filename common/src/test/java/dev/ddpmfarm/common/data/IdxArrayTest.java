package dev.ddpmfarm.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxArrayTest {
    @TempDir
    Path dir;

    private static IdxArray images() {
        byte[] data = new byte[3 * 4 * 5];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 37);
        }
        return new IdxArray(new int[] {3, 4, 5}, data);
    }

    private static byte[] plainBytes(IdxArray array) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        array.write(out, false);
        return out.toByteArray();
    }

    @Test
    @DisplayName("an array written as gzipped or plain IDX reads back unchanged, with the big-endian IDX header")
    void roundTrip() throws IOException {
        IdxArray original = images();
        for (String name : new String[] {"x-idx3-ubyte.gz", "x-idx3-ubyte"}) {
            Path file = dir.resolve(name);
            original.write(file);
            IdxArray back = IdxArray.read(file);
            assertArrayEquals(original.shape(), back.shape());
            assertArrayEquals(original.data(), back.data());
        }
        byte[] plain = Files.readAllBytes(dir.resolve("x-idx3-ubyte"));
        assertArrayEquals(new byte[] {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5}, Arrays.copyOf(plain, 16));
        assertEquals(16 + 60, plain.length);
        assertEquals(0x1f, Files.readAllBytes(dir.resolve("x-idx3-ubyte.gz"))[0] & 0xff);
    }

    @Test
    @DisplayName("a truncated file fails with a message naming the file and what is missing")
    void truncated() throws IOException {
        byte[] full = plainBytes(images());
        Path data = dir.resolve("short-data");
        Files.write(data, Arrays.copyOf(full, full.length - 7));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxArray.read(data));
        assertTrue(e.getMessage().contains("short-data") && e.getMessage().contains("needs 60 bytes but the file holds 53"),
                e.getMessage());

        Path header = dir.resolve("short-header");
        Files.write(header, Arrays.copyOf(full, 10));
        e = assertThrows(IdxFormatException.class, () -> IdxArray.read(header));
        assertTrue(e.getMessage().contains("truncated IDX header"), e.getMessage());

        images().write(dir.resolve("full.gz"));
        byte[] gz = Files.readAllBytes(dir.resolve("full.gz"));
        Path cut = dir.resolve("cut.gz");
        Files.write(cut, Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(IdxFormatException.class, () -> IdxArray.read(cut));
        assertTrue(e.getMessage().contains("cut.gz") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    @DisplayName("a file that is not IDX, or IDX of another element type, fails with a clear message")
    void badMagic() throws IOException {
        Path png = dir.resolve("image.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 0});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxArray.read(png));
        assertTrue(e.getMessage().contains("not an IDX file (magic 89 50 4e 47"), e.getMessage());

        Path floats = dir.resolve("floats");
        Files.write(floats, new byte[] {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0});
        e = assertThrows(IdxFormatException.class, () -> IdxArray.read(floats));
        assertTrue(e.getMessage().contains("element type 0x0d is not supported"), e.getMessage());

        Path trailing = dir.resolve("trailing");
        byte[] full = plainBytes(images());
        Files.write(trailing, Arrays.copyOf(full, full.length + 3));
        e = assertThrows(IdxFormatException.class, () -> IdxArray.read(trailing));
        assertTrue(e.getMessage().contains("unexpected bytes after the IDX data"), e.getMessage());

        Path corrupt = dir.resolve("corrupt.gz");
        images().write(corrupt);
        byte[] gz = Files.readAllBytes(corrupt);
        for (int i = 12; i < gz.length - 8; i++) {
            gz[i] ^= 0x5a;
        }
        Files.write(corrupt, gz);
        assertThrows(IdxFormatException.class, () -> IdxArray.read(corrupt));
    }

    @Test
    @DisplayName("an array whose data does not fill its shape is rejected")
    void invalid() {
        assertThrows(IllegalArgumentException.class, () -> new IdxArray(new int[] {2, 3}, new byte[5]));
        assertThrows(IllegalArgumentException.class, () -> new IdxArray(new int[0], new byte[0]));
    }
}

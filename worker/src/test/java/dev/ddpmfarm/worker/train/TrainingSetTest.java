package dev.ddpmfarm.worker.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.data.LabeledImages;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingSetTest {

    @Test
    @DisplayName("an image folder gives one class per sub-directory, in name order, on the [-1, 1] scale in C, H, W order")
    void imageFolder(@TempDir Path dir) throws IOException {
        byte[] rgb = new byte[2 * 2 * 3];
        rgb[0] = (byte) 255;
        rgb[5] = (byte) 255;
        Png.write(dir.resolve("shirt/a.png"), new Uint8Image(2, 2, 3, rgb));
        Png.write(dir.resolve("bag/b.png"), new Uint8Image(2, 2, 3, new byte[12]));
        Png.write(dir.resolve("bag/c.png"), new Uint8Image(2, 2, 3, new byte[12]));
        TrainingSet set = TrainingSet.load(dir.toString());
        assertEquals(List.of("bag", "shirt"), set.classNames());
        assertArrayEquals(new int[] {0, 0, 1}, set.labels());
        assertArrayEquals(new int[] {3, 2, 2}, set.shape());
        float[] shirt = set.images()[2];
        assertEquals(1f, shirt[0]);   // red of pixel (0, 0)
        assertEquals(1f, shirt[2 * 4 + 1]); // blue of pixel (0, 1)
        assertEquals(-1f, shirt[8]);  // blue of pixel (0, 0)
    }

    @Test
    @DisplayName("images of different sizes in one folder are refused, naming the file")
    void mixedSizes(@TempDir Path dir) throws IOException {
        Png.write(dir.resolve("a/1.png"), new Uint8Image(2, 2, 1, new byte[4]));
        Png.write(dir.resolve("a/2.png"), new Uint8Image(3, 3, 1, new byte[9]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingSet.load(dir.toString()));
        assertTrue(e.getMessage().contains("2.png"), e.getMessage());
    }

    @Test
    @DisplayName("a directory with IDX files is read as images and labels")
    void idx(@TempDir Path dir) throws IOException {
        new LabeledImages(3, 2, 2, new byte[12], new int[] {0, 2, 1}).writeIdx(dir, "mine");
        TrainingSet set = TrainingSet.load(dir.toString());
        assertEquals(3, set.size());
        assertEquals(3, set.classes());
        assertArrayEquals(new int[] {1, 2, 2}, set.shape());
    }

    @Test
    @DisplayName("a directory with neither IDX files nor class folders is refused")
    void empty(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> TrainingSet.load(dir.toString()));
    }
}

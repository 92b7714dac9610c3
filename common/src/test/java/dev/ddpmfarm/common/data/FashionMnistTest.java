package dev.ddpmfarm.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir
    Path dir;

    @Test
    @DisplayName("a missing dataset fails with a message that says to apt-get install dataset-fashion-mnist")
    void missing() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    @DisplayName("labeled images written as IDX files read back as the same split, by Fashion-MNIST's file names")
    void roundTrip() throws IOException {
        byte[] pixels = new byte[2 * 3 * 4];
        Arrays.fill(pixels, (byte) 200);
        LabeledImages written = new LabeledImages(2, 3, 4, pixels, new int[] {9, 0});
        written.writeIdx(dir, "t10k");
        LabeledImages read = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(2, read.count());
        assertEquals(3, read.height());
        assertEquals(4, read.width());
        assertEquals(200, read.pixel(1, 11));
        assertArrayEquals(new int[] {9, 0}, read.labels());
    }

    @Test
    @DisplayName("image and label files of different lengths are rejected")
    void mismatched() throws IOException {
        new IdxArray(new int[] {2, 2, 2}, new byte[8]).write(dir.resolve(LabeledImages.imagesFile("train")));
        new IdxArray(new int[] {3}, new byte[3]).write(dir.resolve(LabeledImages.labelsFile("train")));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("expected 2 labels"), e.getMessage());
    }

    @Test
    @DisplayName("the installed test split has 10,000 28×28 images with labels 0..9, about 1,000 per class")
    void installedTestSplit() throws IOException {
        assumeTrue(Files.exists(FashionMnist.DEFAULT_DIR.resolve("t10k-images-idx3-ubyte.gz")),
                "dataset-fashion-mnist is not installed (scripts/test installs it)");
        LabeledImages test = FashionMnist.load(FashionMnist.Split.TEST);
        assertEquals(10_000, test.count());
        assertEquals(28, test.height());
        assertEquals(28, test.width());
        int[] perClass = new int[FashionMnist.CLASS_NAMES.size()];
        for (int label : test.labels()) {
            perClass[label]++;
        }
        for (int n : perClass) {
            assertEquals(1000, n);
        }
    }
}

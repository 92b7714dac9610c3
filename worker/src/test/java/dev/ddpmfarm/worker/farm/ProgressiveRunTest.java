package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProgressiveRunTest {

    @Test
    @DisplayName("x_t and every reconstruction of every (image, t) draw their noise from keys of their own")
    void noiseKeysAreDistinct() {
        int images = 4;
        int nt = 6;
        int perT = 3;
        Set<Long> keys = new HashSet<>();
        for (int i = 0; i < images; i++) {
            for (int j = 0; j < nt; j++) {
                for (int use = 0; use <= perT; use++) {
                    assertTrue(keys.add(ProgressiveRun.noiseKey(i, j, nt, perT, use)),
                            "image " + i + ", t entry " + j + ", use " + use + " repeats a key");
                }
            }
        }
    }
}

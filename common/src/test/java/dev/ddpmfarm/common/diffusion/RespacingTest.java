package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RespacingTest {

    @Test
    @DisplayName("S evenly spaced steps keep both ends, as improved-diffusion's space_timesteps(T, \"S\") does")
    void evenly() {
        int[] kept = Respacing.evenly(1000, 50);
        assertEquals(50, kept.length);
        assertArrayEquals(new int[] {0, 20, 41, 61, 82, 102}, Arrays.copyOf(kept, 6));
        assertArrayEquals(new int[] {958, 979, 999}, Arrays.copyOfRange(kept, 47, 50));
        assertArrayEquals(new int[] {0, 500, 999}, Respacing.evenly(1000, 3));
        assertArrayEquals(IntStream.range(0, 1000).toArray(), Respacing.evenly(1000, 1000));
        assertArrayEquals(new int[] {999}, Respacing.evenly(1000, 1));
        assertThrows(IllegalArgumentException.class, () -> Respacing.evenly(1000, 0));
        assertThrows(IllegalArgumentException.class, () -> Respacing.evenly(1000, 1001));
    }

    @Test
    @DisplayName("\"ddimN\" takes an integer stride and section counts split the process as in space_timesteps")
    void parse() {
        int[] ddim = Respacing.parse(1000, "ddim50");
        assertEquals(50, ddim.length);
        assertEquals(20, ddim[1]);
        assertEquals(980, ddim[49]);
        int[] sections = Respacing.parse(300, "10,15,20");
        assertEquals(45, sections.length);
        assertArrayEquals(new int[] {0, 11, 22, 33, 44, 55, 66, 77, 88, 99, 100, 107}, Arrays.copyOf(sections, 12));
        assertArrayEquals(new int[] {278, 283, 289, 294, 299}, Arrays.copyOfRange(sections, 40, 45));
        assertArrayEquals(Respacing.evenly(1000, 50), Respacing.parse(1000, "50"));
        assertThrows(IllegalArgumentException.class, () -> Respacing.parse(100, "ddim99"));
        assertThrows(IllegalArgumentException.class, () -> Respacing.parse(300, "10,150,20"));
    }
}

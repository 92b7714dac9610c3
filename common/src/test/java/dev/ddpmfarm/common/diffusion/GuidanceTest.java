package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GuidanceTest {
    private static List<Integer> guidedSteps(Guidance g, int steps) {
        return IntStream.range(0, steps).filter(k -> g.at(k, steps)).boxed().toList();
    }

    @Test
    @DisplayName("step k of S is guided when floor(start·S) <= k < floor(stop·S), as in diffusers' guiders")
    void interval() {
        assertEquals(IntStream.range(0, 50).boxed().toList(), guidedSteps(Guidance.of(2), 50));
        assertEquals(IntStream.range(20, 50).boxed().toList(), guidedSteps(new Guidance(2, 0.4, 1), 50));
        assertEquals(IntStream.range(0, 30).boxed().toList(), guidedSteps(new Guidance(2, 0, 0.6), 50));
        assertEquals(List.of(1, 2), guidedSteps(new Guidance(2, 0.25, 0.75), 4));
        assertEquals(List.of(), guidedSteps(new Guidance(2, 0.1, 0.4), 2), "an interval may hold no step of a short run");
        assertEquals(IntStream.range(333, 1000).boxed().toList(), guidedSteps(new Guidance(2, 1 / 3.0, 1), 1000));
        for (Guidance g : List.of(Guidance.of(2), new Guidance(2, 0.4, 1), new Guidance(2, 0.1, 0.4),
                new Guidance(2, 0, 0.6), Guidance.NONE)) {
            for (int steps : new int[] {1, 2, 4, 50, 1000}) {
                List<Integer> guided = guidedSteps(g, steps);
                assertEquals(guided.size(), g.guidedSteps(steps), g + " of " + steps);
                for (int position = 0; position <= steps; position++) {
                    int from = position;
                    assertEquals(guided.stream().anyMatch(k -> k >= from), g.guidedFrom(position, steps),
                            g + " of " + steps + " from " + position);
                }
            }
        }
    }

    @Test
    @DisplayName("a scale of 1 guides no step; bad scales and intervals are refused")
    void none() {
        assertFalse(Guidance.NONE.any());
        assertTrue(Guidance.of(2).everyStep());
        assertFalse(new Guidance(2, 0.4, 1).everyStep());
        assertEquals(List.of(), guidedSteps(new Guidance(1, 0.2, 0.8), 10));
        assertThrows(IllegalArgumentException.class, () -> Guidance.of(-1));
        assertThrows(IllegalArgumentException.class, () -> Guidance.of(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(2, 0.5, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(2, -0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Guidance(2, 0, 1.5));
    }
}

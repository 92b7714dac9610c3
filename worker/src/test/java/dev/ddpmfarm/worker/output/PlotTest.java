package dev.ddpmfarm.worker.output;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PlotTest {

    @Test
    @DisplayName("a 1000-point rate-distortion curve renders as a 1200×400 RGB PNG with the line in all three panels")
    void thousandPoints() throws IOException {
        int[] t = IntStream.rangeClosed(1, 1000).map(i -> 1001 - i).toArray();
        double[] rate = new double[1000];
        double[] rmse = new double[1000];
        for (int i = 0; i < 1000; i++) {
            double reverse = 1000 - t[i];
            rate[i] = 1.78 * Math.pow(reverse / 1000, 4);
            rmse[i] = 80 * (1 - Math.sqrt(reverse / 1000));
        }
        assertDrawn(RateDistortionPlot.png(t, rate, rmse, 1000));
    }

    @Test
    @DisplayName("one point, a constant series and timesteps in any order render without dividing by zero")
    void degenerateSeries() throws IOException {
        assertDrawn(RateDistortionPlot.png(new int[] {500}, new double[] {0.3}, new double[] {12.5}, 1000));
        assertDrawn(RateDistortionPlot.png(new int[] {1, 3, 2}, new double[] {0, 0, 0}, new double[] {7, 7, 7}, 3));
    }

    @Test
    @DisplayName("points of different lengths, timesteps outside 0…T and non-finite values are rejected")
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class,
                () -> RateDistortionPlot.png(new int[] {1, 2}, new double[] {1}, new double[] {1, 2}, 10));
        assertThrows(IllegalArgumentException.class,
                () -> RateDistortionPlot.png(new int[0], new double[0], new double[0], 10));
        assertThrows(IllegalArgumentException.class,
                () -> RateDistortionPlot.png(new int[] {11}, new double[] {1}, new double[] {1}, 10));
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> RateDistortionPlot.png(new int[] {5}, new double[] {Double.NaN}, new double[] {1}, 10));
        assertTrue(nan.getMessage().contains("finite"), nan.getMessage());
    }

    @Test
    @DisplayName("axes take 4–6 ticks at 1, 2, 2.5 or 5 × 10^k, cover the data and label ticks with the digits"
            + " they need")
    void axisTicks() {
        LineChart.Axis steps = LineChart.Axis.covering("steps", 0, 1000);
        assertEquals(0, steps.min());
        assertEquals(1000, steps.max());
        assertArrayEquals(new String[] {"0", "200", "400", "600", "800", "1000"}, labels(steps));
        assertArrayEquals(new String[] {"0.0", "0.5", "1.0", "1.5", "2.0"},
                labels(LineChart.Axis.covering("rate", 0, 1.78)));
        assertArrayEquals(new String[] {"0.0", "0.2", "0.4", "0.6", "0.8"},
                labels(LineChart.Axis.covering("rate", 0, 0.7)));
        assertArrayEquals(new String[] {"0.00", "0.25", "0.50", "0.75", "1.00", "1.25"},
                labels(LineChart.Axis.covering("rate", 0, 1.2)));
        assertArrayEquals(new String[] {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"},
                labels(LineChart.Axis.covering("constant zero", 0, 0)));
        LineChart.Axis constant = LineChart.Axis.covering("constant", 7, 7);
        assertTrue(constant.min() < 7 && constant.max() > 7);
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 2000; i++) {
            int scale = random.nextInt(-6, 7);
            double lo = (random.nextDouble() - 0.5) * Math.pow(10, scale);
            double hi = lo + random.nextDouble() * Math.pow(10, scale + random.nextInt(-3, 4));
            LineChart.Axis axis = LineChart.Axis.covering("random", lo, hi);
            double rounding = 1e-6 * axis.step();
            assertTrue(axis.intervals() >= 3 && axis.intervals() <= 5, lo + " … " + hi + ": " + axis);
            assertTrue(axis.min() <= lo + rounding && axis.max() >= hi - rounding, lo + " … " + hi + ": " + axis);
        }
        assertThrows(IllegalArgumentException.class, () -> LineChart.Axis.covering("bad", 0, Double.NaN));
    }

    private static String[] labels(LineChart.Axis axis) {
        return IntStream.rangeClosed(0, axis.intervals()).mapToObj(axis::label).toArray(String[]::new);
    }

    /** The PNG decodes to the figure's size, is far from blank and shows the line's colour in each panel. */
    private static void assertDrawn(byte[] png) throws IOException {
        Uint8Image image = Png.decode(png);
        assertEquals(RateDistortionPlot.HEIGHT, image.height());
        assertEquals(RateDistortionPlot.WIDTH, image.width());
        assertEquals(3, image.channels());
        Set<Integer> colours = new HashSet<>();
        int[] linePixels = new int[3];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < image.width(); x++) {
                int r = image.get(y, x, 0);
                int g = image.get(y, x, 1);
                int b = image.get(y, x, 2);
                colours.add(r << 16 | g << 8 | b);
                if (b > r + 60) {
                    linePixels[x * 3 / image.width()]++;
                }
            }
        }
        assertEquals(0xffffff, image.get(0, 0, 0) << 16 | image.get(0, 0, 1) << 8 | image.get(0, 0, 2),
                "white background");
        assertTrue(colours.size() > 10, colours.size() + " colours");
        for (int panel = 0; panel < 3; panel++) {
            assertTrue(linePixels[panel] > 10, "panel " + panel + " has " + linePixels[panel] + " blue pixels");
        }
    }
}

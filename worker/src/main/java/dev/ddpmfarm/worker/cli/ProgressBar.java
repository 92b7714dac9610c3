package dev.ddpmfarm.worker.cli;

import java.io.PrintStream;
import java.util.Arrays;

/** A one-line text progress bar on stderr-like streams, redrawn at most five times a second. */
final class ProgressBar {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final long total;
    private final String unit;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;

    ProgressBar(long total, String unit, PrintStream out) {
        this.total = total;
        this.unit = unit;
        this.out = out;
    }

    void step() {
        done++;
        long now = System.nanoTime();
        if (now - lastDraw >= REDRAW_NANOS || done == total) {
            lastDraw = now;
            draw(now);
        }
    }

    void finish() {
        draw(System.nanoTime());
        out.println();
    }

    private void draw(long now) {
        double fraction = (double) done / total;
        int filled = (int) (fraction * WIDTH);
        char[] bar = new char[WIDTH];
        Arrays.fill(bar, 0, filled, '#');
        Arrays.fill(bar, filled, WIDTH, '.');
        double elapsed = (now - start) / 1e9;
        double eta = done == 0 ? Double.NaN : elapsed * (total - done) / done;
        out.printf("\r[%s] %3.0f%% %,d/%,d %s  %.0f s elapsed, ETA %.0f s ", new String(bar),
                100 * fraction, done, total, unit, elapsed, eta);
        out.flush();
    }
}

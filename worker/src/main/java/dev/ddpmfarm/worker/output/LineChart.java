package dev.ddpmfarm.worker.output;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.util.Locale;

/**
 * One panel of a line chart drawn with Java2D, for figures rendered by the worker itself (no plotting library on a
 * headless server): a framed plot area with light grid lines at the ticks, numeric tick labels, axis titles, a panel
 * title, and the data as a line with small markers.
 */
final class LineChart {
    /** The line's colour (matplotlib's default blue). */
    static final Color LINE = new Color(31, 119, 180);

    private static final Color GRID = new Color(225, 225, 225);
    private static final Font TICK_FONT = new Font("DejaVu Sans", Font.PLAIN, 11);
    private static final Font TITLE_FONT = new Font("DejaVu Sans", Font.PLAIN, 13);
    private static final int LEFT = 66;
    private static final int RIGHT = 18;
    private static final int TOP = 34;
    private static final int BOTTOM = 50;
    private static final int TICK_LENGTH = 4;
    private static final int MAX_MARKERS = 40;
    private static final double MARKER_RADIUS = 2.5;

    private LineChart() {
    }

    /**
     * An axis from {@code first · step} to {@code (first + intervals) · step} with a tick at every step.
     *
     * @param decimals digits after the point in tick labels: as many as the step needs
     */
    record Axis(String title, long first, int intervals, double step, int decimals) {
        private static final double[] MULTIPLES = {1, 2, 2.5, 5};
        private static final int MAX_INTERVALS = 5;
        /** Keeps a bound that is a tick up to rounding (0.3 / 0.1 = 2.9999…) from adding an interval. */
        private static final double SLACK = 1e-9;

        /**
         * The axis covering [{@code lo}, {@code hi}] with the smallest step of 1, 2, 2.5 or 5 × 10^k that needs at
         * most five intervals: four to six ticks. A range of one value is widened to [0, 1] for zero and by half
         * the value either side otherwise.
         */
        static Axis covering(String title, double lo, double hi) {
            if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
                throw new IllegalArgumentException("an axis needs finite bounds lo ≤ hi, got " + lo + ", " + hi);
            }
            if (lo == hi) {
                double pad = Math.abs(lo) / 2;
                return lo == 0 ? covering(title, 0, 1) : covering(title, lo - pad, hi + pad);
            }
            for (int exponent = (int) Math.floor(Math.log10(hi - lo)) - 1; ; exponent++) {
                for (double multiple : MULTIPLES) {
                    double step = multiple * Math.pow(10, exponent);
                    long first = (long) Math.floor(lo / step + SLACK);
                    long last = (long) Math.ceil(hi / step - SLACK);
                    if (last - first <= MAX_INTERVALS) {
                        int decimals = Math.max(0, -exponent + (multiple == 2.5 ? 1 : 0));
                        return new Axis(title, first, (int) (last - first), step, decimals);
                    }
                }
            }
        }

        double min() {
            return tick(0);
        }

        double max() {
            return tick(intervals);
        }

        /** Tick {@code i}, 0 … intervals (never −0). */
        double tick(int i) {
            return (first + i) * step + 0.0;
        }

        String label(int i) {
            return String.format(Locale.ROOT, "%." + decimals + "f", tick(i));
        }
    }

    /** Draws the panel into {@code area} of {@code g}: points ({@code xs[i]}, {@code ys[i]}) joined in index order. */
    static void draw(Graphics2D g, Rectangle area, String title, Axis x, Axis y, double[] xs, double[] ys) {
        Rectangle plot = new Rectangle(area.x + LEFT, area.y + TOP, area.width - LEFT - RIGHT,
                area.height - TOP - BOTTOM);
        g.setFont(TICK_FONT);
        FontMetrics ticks = g.getFontMetrics();
        g.setStroke(new BasicStroke(1f));
        for (int i = 0; i <= x.intervals(); i++) {
            int px = (int) Math.round(toX(x, x.tick(i), plot));
            g.setColor(GRID);
            g.drawLine(px, plot.y, px, plot.y + plot.height);
            g.setColor(Color.BLACK);
            g.drawLine(px, plot.y + plot.height, px, plot.y + plot.height + TICK_LENGTH);
            String label = x.label(i);
            g.drawString(label, px - ticks.stringWidth(label) / 2,
                    plot.y + plot.height + TICK_LENGTH + ticks.getAscent());
        }
        for (int i = 0; i <= y.intervals(); i++) {
            int py = (int) Math.round(toY(y, y.tick(i), plot));
            g.setColor(GRID);
            g.drawLine(plot.x, py, plot.x + plot.width, py);
            g.setColor(Color.BLACK);
            g.drawLine(plot.x - TICK_LENGTH, py, plot.x, py);
            String label = y.label(i);
            g.drawString(label, plot.x - TICK_LENGTH - 2 - ticks.stringWidth(label),
                    py + ticks.getAscent() / 2 - 1);
        }
        g.draw(plot);

        g.setFont(TITLE_FONT);
        FontMetrics titles = g.getFontMetrics();
        g.drawString(title, plot.x + (plot.width - titles.stringWidth(title)) / 2, area.y + TOP - 12);
        g.drawString(x.title(), plot.x + (plot.width - titles.stringWidth(x.title())) / 2,
                plot.y + plot.height + TICK_LENGTH + ticks.getHeight() + titles.getAscent() + 4);
        AffineTransform unrotated = g.getTransform();
        g.translate(area.x + 4 + titles.getAscent(), plot.y + (plot.height + titles.stringWidth(y.title())) / 2.0);
        g.rotate(-Math.PI / 2);
        g.drawString(y.title(), 0, 0);
        g.setTransform(unrotated);

        g.setColor(LINE);
        g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D.Double line = new Path2D.Double();
        line.moveTo(toX(x, xs[0], plot), toY(y, ys[0], plot));
        for (int i = 1; i < xs.length; i++) {
            line.lineTo(toX(x, xs[i], plot), toY(y, ys[i], plot));
        }
        g.draw(line);
        int stride = (xs.length + MAX_MARKERS - 1) / MAX_MARKERS;
        for (int i = 0; i < xs.length; i += stride) {
            marker(g, toX(x, xs[i], plot), toY(y, ys[i], plot));
        }
        int last = xs.length - 1;
        marker(g, toX(x, xs[last], plot), toY(y, ys[last], plot));
    }

    private static void marker(Graphics2D g, double px, double py) {
        g.fill(new Ellipse2D.Double(px - MARKER_RADIUS, py - MARKER_RADIUS, 2 * MARKER_RADIUS, 2 * MARKER_RADIUS));
    }

    private static double toX(Axis axis, double value, Rectangle plot) {
        return plot.x + (value - axis.min()) / (axis.max() - axis.min()) * plot.width;
    }

    private static double toY(Axis axis, double value, Rectangle plot) {
        return plot.y + plot.height - (value - axis.min()) / (axis.max() - axis.min()) * plot.height;
    }
}

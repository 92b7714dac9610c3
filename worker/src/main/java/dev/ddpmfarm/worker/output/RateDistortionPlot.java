package dev.ddpmfarm.worker.output;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The rate-distortion figure of the paper's §4.3 (Ho et al. 2020, Figure 5) as one PNG, so a rate-distortion job
 * can return the picture along with its numbers: three panels side by side, (a) rate in bits/dim against reverse
 * process steps T − t, (b) distortion as RMSE on the [0, 255] scale against reverse steps, (c) distortion against
 * rate. Points are joined in order of reverse steps; every axis starts at zero, as in the paper.
 */
public final class RateDistortionPlot {
    /** Width of the PNG in pixels: three square panels of {@link #HEIGHT}. */
    public static final int WIDTH = 1200;
    /** Height of the PNG in pixels. */
    public static final int HEIGHT = 400;

    private RateDistortionPlot() {
    }

    /**
     * The figure's PNG (8-bit RGB, {@link #WIDTH}×{@link #HEIGHT}).
     *
     * @param t              timesteps of the points, 0 … T, in any order
     * @param rateBitsPerDim the rate at each timestep, bits per dimension
     * @param rmse255        the distortion at each timestep, RMSE on the [0, 255] scale
     * @param timesteps      T, the length of the forward process
     * @throws IllegalArgumentException no points, arrays of different lengths, a timestep outside 0 … T or a value
     *                                  that is not finite
     */
    public static byte[] png(int[] t, double[] rateBitsPerDim, double[] rmse255, int timesteps) {
        if (t.length == 0 || rateBitsPerDim.length != t.length || rmse255.length != t.length) {
            throw new IllegalArgumentException("need one rate and one distortion per timestep, at least one point; got "
                    + t.length + " timesteps, " + rateBitsPerDim.length + " rates, " + rmse255.length
                    + " distortions");
        }
        for (int i = 0; i < t.length; i++) {
            if (t[i] < 0 || t[i] > timesteps) {
                throw new IllegalArgumentException("timestep " + t[i] + " is outside 0 … T = " + timesteps);
            }
            if (!Double.isFinite(rateBitsPerDim[i]) || !Double.isFinite(rmse255[i])) {
                throw new IllegalArgumentException("rate " + rateBitsPerDim[i] + " and distortion " + rmse255[i]
                        + " at timestep " + t[i] + " must be finite");
            }
        }
        int[] order = IntStream.range(0, t.length).boxed().sorted(Comparator.comparingInt(i -> -t[i]))
                .mapToInt(Integer::intValue).toArray();
        double[] reverseSteps = Arrays.stream(order).mapToDouble(i -> timesteps - t[i]).toArray();
        double[] rate = Arrays.stream(order).mapToDouble(i -> rateBitsPerDim[i]).toArray();
        double[] distortion = Arrays.stream(order).mapToDouble(i -> rmse255[i]).toArray();

        LineChart.Axis stepsAxis = LineChart.Axis.covering("reverse process steps (T − t)", 0, timesteps);
        LineChart.Axis rateAxis = fromZero("rate (bits/dim)", rate);
        LineChart.Axis distortionAxis = fromZero("distortion (RMSE, [0, 255])", distortion);

        BufferedImage canvas = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = canvas.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int panel = WIDTH / 3;
            LineChart.draw(g, new Rectangle(0, 0, panel, HEIGHT), "(a) rate", stepsAxis, rateAxis, reverseSteps, rate);
            LineChart.draw(g, new Rectangle(panel, 0, panel, HEIGHT), "(b) distortion", stepsAxis, distortionAxis,
                    reverseSteps, distortion);
            LineChart.draw(g, new Rectangle(2 * panel, 0, panel, HEIGHT), "(c) distortion vs rate", rateAxis,
                    distortionAxis, rate, distortion);
        } finally {
            g.dispose();
        }
        int[] samples = canvas.getRaster().getPixels(0, 0, WIDTH, HEIGHT, (int[]) null);
        byte[] rgb = new byte[samples.length];
        for (int i = 0; i < samples.length; i++) {
            rgb[i] = (byte) samples[i];
        }
        return Png.encode(new Uint8Image(HEIGHT, WIDTH, 3, rgb));
    }

    private static LineChart.Axis fromZero(String title, double[] values) {
        double min = Arrays.stream(values).min().orElseThrow();
        double max = Arrays.stream(values).max().orElseThrow();
        return LineChart.Axis.covering(title, Math.min(0, min), Math.max(0, max));
    }
}

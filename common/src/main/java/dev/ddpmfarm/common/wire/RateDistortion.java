package dev.ddpmfarm.common.wire;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code rd.json} of a rate-distortion job (SPEC §6; paper §4.3, Table 4, Figure 5): the reverse process read as a
 * progressive lossy code. After x_t has been received, the rate is what has been sent so far, L_T + Σ_{s=t}^{T−1} L_s
 * in bits/dim, and the distortion is the RMSE of x̂_0 from x_t on the [0, 255] scale. At t = 1 the rate is the
 * whole bound but the decoder term L_0; at t = 0 (x_0 itself) it is the lossless codelength, the NLL, and the
 * distortion 0.
 *
 * @param nllBitsPerDim     L_T + Σ_{t≥1} L_{t−1}: the test negative log-likelihood bound
 * @param priorBitsPerDim   L_T
 * @param decoderBitsPerDim L_0, the discretized Gaussian decoder (Eq. 13)
 * @param images            images averaged over
 * @param rows              one per selected t, from T down
 */
public record RateDistortion(double nllBitsPerDim, double priorBitsPerDim, double decoderBitsPerDim, int images,
                             List<Row> rows) {

    /**
     * @param t              paper timestep, 0 … T
     * @param rateBitsPerDim bits/dim received once x_t is known
     * @param rmse255        RMSE of x̂_0(x_t) against x_0 on the [0, 255] scale
     */
    public record Row(int t, double rateBitsPerDim, double rmse255) {
    }

    public RateDistortion {
        rows = List.copyOf(rows);
    }

    /**
     * The table from a bound's mean terms.
     *
     * @param prior     L_T in bits/dim
     * @param terms     by 0-based model timestep s: the decoder L_0 at s = 0, the KL term L_s for s ≥ 1
     * @param rmse255   by 0-based model timestep s: the RMSE of x̂_0 from x at model step s (paper t = s + 1)
     * @param images    images averaged over
     * @param selection which t get a row
     */
    public static RateDistortion of(double prior, double[] terms, double[] rmse255, int images,
                                    TimestepSelection selection) {
        int steps = terms.length;
        double[] rate = new double[steps + 1];
        rate[steps] = prior;
        for (int t = steps - 1; t >= 1; t--) {
            rate[t] = rate[t + 1] + terms[t];
        }
        double nll = rate[1] + terms[0];
        rate[0] = nll;
        List<Integer> ts = new ArrayList<>();
        if (selection.all()) {
            for (int t = steps; t >= 1; t--) {
                ts.add(t);
            }
        } else {
            selection.steps().stream().sorted((a, b) -> b - a).forEach(ts::add);
        }
        List<Row> rows = ts.stream().map(t -> new Row(t, rate[t], t == 0 ? 0 : rmse255[t - 1])).toList();
        return new RateDistortion(nll, prior, terms[0], images, rows);
    }

    /** {@code rd.csv}: a header, then {@code t,reverse_steps,rate_bits_per_dim,rmse_255} per row. */
    public String csv(int timesteps) {
        StringBuilder out = new StringBuilder("t,reverse_steps,rate_bits_per_dim,rmse_255\n");
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f\n", r.t(), timesteps - r.t(), r.rateBitsPerDim(),
                    r.rmse255()));
        }
        return out.toString();
    }
}

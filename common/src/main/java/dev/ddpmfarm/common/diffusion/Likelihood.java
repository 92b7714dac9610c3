package dev.ddpmfarm.common.diffusion;

/**
 * The Gaussian quantities of the variational bound (the paper's Eq. 5 and Eq. 13), element by element and in nats,
 * with conversion to bits per dimension.
 */
public final class Likelihood {
    /** Half the width of one of the 256 bins of 8-bit data scaled to [-1, 1]. */
    public static final double HALF_BIN = 1.0 / 255.0;

    private static final double LN2 = Math.log(2);
    private static final double MIN_PROBABILITY = 1e-12;
    private static final double EDGE = 0.999;
    private static final double ERFC_SWITCH = 2;
    private static final int ERFC_TERMS = 50;

    private Likelihood() {
    }

    /** KL(N(mean1, e^{logVar1}) ‖ N(mean2, e^{logVar2})) of one dimension, in nats. */
    public static double normalKl(double mean1, double logVar1, double mean2, double logVar2) {
        double d = mean1 - mean2;
        return 0.5 * (-1 + logVar2 - logVar1 + Math.exp(logVar1 - logVar2) + d * d * Math.exp(-logVar2));
    }

    /**
     * log p(x) of one pixel under the discretized Gaussian decoder of Eq. 13: the mass of N(mean, e^{2 logScale})
     * on the pixel's bin [x − 1/255, x + 1/255], where the bin of the lowest value (x = −1) extends to −∞ and that
     * of the highest (x = 1) to +∞, so the 256 bins carry all the mass. {@code x} must be an 8-bit value scaled to
     * [-1, 1]. Probabilities are floored at 10⁻¹², as in the paper's code; unlike it, Φ is the exact normal CDF
     * rather than a tanh approximation.
     */
    public static double discretizedGaussianLogLikelihood(double x, double mean, double logScale) {
        double invStd = Math.exp(-logScale);
        double upper = invStd * (x - mean + HALF_BIN);
        double lower = invStd * (x - mean - HALF_BIN);
        double p;
        if (x < -EDGE) {
            p = standardNormalCdf(upper);
        } else if (x > EDGE) {
            p = standardNormalCdf(-lower);
        } else if (lower > 0) {
            p = standardNormalCdf(-lower) - standardNormalCdf(-upper);
        } else {
            p = standardNormalCdf(upper) - standardNormalCdf(lower);
        }
        return Math.log(Math.max(p, MIN_PROBABILITY));
    }

    /** Φ(x) = ½ erfc(−x/√2), accurate to a relative 10⁻¹³ in both tails. */
    public static double standardNormalCdf(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2));
    }

    /** A sum of nats over {@code dims} dimensions as bits per dimension. */
    public static double bitsPerDim(double nats, long dims) {
        return nats / (dims * LN2);
    }

    /** Nats as bits. */
    public static double bits(double nats) {
        return nats / LN2;
    }

    /**
     * The complementary error function to about 10⁻¹⁴ relative error: below 2 as 1 − erf(x) with erf from its
     * positive-term series erf(x) = 2/√π e^{−x²} Σ 2ⁿ x^{2n+1}/(1·3···(2n+1)); from 2 on by the continued fraction
     * erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) evaluated from its 50th term (Abramowitz and
     * Stegun 7.1.6 and 7.1.14).
     */
    static double erfc(double x) {
        if (x < 0) {
            return 2 - erfc(-x);
        }
        if (x < ERFC_SWITCH) {
            double sum = x;
            double term = x;
            for (int n = 1; term > 1e-17 * sum; n++) {
                term *= 2 * x * x / (2 * n + 1);
                sum += term;
            }
            return 1 - 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
        }
        double f = x;
        for (int n = ERFC_TERMS; n >= 1; n--) {
            f = x + n / 2.0 / f;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}

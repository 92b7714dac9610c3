package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LikelihoodTest {

    @Test
    @DisplayName("KL of equal Gaussians is 0 and matches the closed form otherwise")
    void normalKl() {
        assertEquals(0.0, Likelihood.normalKl(0.3, -1.2, 0.3, -1.2), 1e-15);
        // KL(N(0,1) ‖ N(1,4)) = log 2 + (1 + 1)/8 − 1/2
        assertEquals(Math.log(2) + 0.25 - 0.5, Likelihood.normalKl(0, 0, 1, Math.log(4)), 1e-15);
        assertTrue(Likelihood.normalKl(1, 0, 0, 0) > 0);
    }

    @Test
    @DisplayName("the normal CDF matches reference values in the body and both tails")
    void normalCdf() {
        assertEquals(0.5, Likelihood.standardNormalCdf(0), 1e-16);
        assertEquals(0.8413447460685429, Likelihood.standardNormalCdf(1), 1e-15);
        assertEquals(0.0013498980316301035, Likelihood.standardNormalCdf(-3), 0.0013498980316301035 * 1e-13);
        assertEquals(9.865876450376946e-10, Likelihood.standardNormalCdf(-6), 9.9e-10 * 1e-13);
        assertEquals(7.619853024160525e-24, Likelihood.standardNormalCdf(-10), 7.6e-24 * 1e-13);
        assertEquals(1 - 0.0013498980316301035, Likelihood.standardNormalCdf(3), 1e-15);
    }

    @Test
    @DisplayName("the discretized Gaussian decoder's probabilities sum to 1 over the 256 bins")
    void discretizedSumsToOne() {
        double[][] cases = {{0, Math.log(0.1)}, {0.37, Math.log(0.007)}, {-1, Math.log(0.02)}, {0.999, Math.log(0.5)},
            {1.3, Math.log(0.05)}, {-0.2, Math.log(3)}};
        for (double[] c : cases) {
            double total = 0;
            for (int k = 0; k < 256; k++) {
                total += Math.exp(Likelihood.discretizedGaussianLogLikelihood(k / 127.5 - 1, c[0], c[1]));
            }
            assertEquals(1.0, total, 1e-6, "mean " + c[0] + " log-scale " + c[1]);
        }
    }

    @Test
    @DisplayName("the edge bins at -1 and 1 extend to ±∞; inner bins are ±1/255 wide")
    void discretizedEdges() {
        double sigma = 0.01;
        double logScale = Math.log(sigma);
        assertEquals(Math.log(Likelihood.standardNormalCdf((1.0 / 255) / sigma)),
                Likelihood.discretizedGaussianLogLikelihood(-1, -1, logScale), 1e-9);
        assertEquals(Math.log(Likelihood.standardNormalCdf((1.0 / 255) / sigma)),
                Likelihood.discretizedGaussianLogLikelihood(1, 1, logScale), 1e-9);
        assertEquals(Math.log(Likelihood.standardNormalCdf(-(1 - 0.99 - 1.0 / 255) / sigma)),
                Likelihood.discretizedGaussianLogLikelihood(1, 0.99, logScale), 1e-9);
        double x = 150 / 127.5 - 1;
        double inner = Likelihood.standardNormalCdf(1.0 / 255 / sigma) - Likelihood.standardNormalCdf(-1.0 / 255 / sigma);
        assertEquals(Math.log(inner), Likelihood.discretizedGaussianLogLikelihood(x, x, logScale), 1e-9);
        assertEquals(Likelihood.discretizedGaussianLogLikelihood(0.2, 0.3, logScale),
                Likelihood.discretizedGaussianLogLikelihood(-0.2, -0.3, logScale), 1e-12);
        assertEquals(Math.log(1e-12), Likelihood.discretizedGaussianLogLikelihood(0, 0.9, logScale), 1e-12,
                "probabilities are floored at 1e-12");
    }

    @Test
    @DisplayName("nats convert to bits per dimension")
    void bits() {
        assertEquals(1.0, Likelihood.bitsPerDim(10 * Math.log(2), 10), 1e-15);
        assertEquals(3.0, Likelihood.bits(3 * Math.log(2)), 1e-15);
    }
}

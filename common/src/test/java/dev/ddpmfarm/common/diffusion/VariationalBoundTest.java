package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class VariationalBoundTest {
    private static final GaussianDiffusion LINEAR = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);

    @Test
    @DisplayName("the prior term is KL(N(√ᾱ_T x_0, 1−ᾱ_T) ‖ N(0, 1)) in bits per dimension")
    void prior() {
        VariationalBound bound = new VariationalBound(LINEAR, VarianceType.BETA);
        double a = LINEAR.alphaBar(999);
        double kl0 = 0.5 * (-1 - Math.log(1 - a) + (1 - a));
        double kl1 = kl0 + 0.5 * a;
        assertEquals((kl0 + kl1) / 2 / Math.log(2), bound.priorBitsPerDim(new float[] {0f, 1f}), 1e-15);
        assertTrue(bound.priorBitsPerDim(new float[] {1f}) < 1e-4, "the linear schedule's prior term is tiny");
    }

    @Test
    @DisplayName("a model that predicts x_0 exactly has KL terms of 0 with σ²=β̃ and of the variance mismatch with σ²=β")
    void klOfAPerfectModel() {
        float[] x0 = {-1f, 0.2f, 0.8f};
        float[] xt = LINEAR.qSample(x0, 300, new float[] {0.5f, -1f, 2f});
        assertEquals(0.0, new VariationalBound(LINEAR, VarianceType.POSTERIOR).klBitsPerDim(300, x0, xt, x0), 1e-12);
        double mismatch = Likelihood.normalKl(0, Math.log(LINEAR.posteriorVariance(300)), 0, Math.log(LINEAR.beta(300)));
        assertEquals(Likelihood.bits(mismatch), new VariationalBound(LINEAR, VarianceType.BETA).klBitsPerDim(300, x0, xt, x0),
                1e-12);
        assertThrows(IllegalArgumentException.class,
                () -> new VariationalBound(LINEAR, VarianceType.BETA).klBitsPerDim(0, x0, xt, x0));
    }

    @Test
    @DisplayName("the decoder term is −log₂ of the bin's mass around μ̃_1(x_1, x̂_0) = x̂_0 with σ = √β̃ of step 1")
    void decoder() {
        float[] x0 = {(float) (100 / 127.5 - 1), -1f};
        VariationalBound bound = new VariationalBound(LINEAR, VarianceType.POSTERIOR);
        double sigma = Math.sqrt(LINEAR.posteriorVariance(1));
        double inner = Likelihood.standardNormalCdf(1 / 255.0 / sigma) - Likelihood.standardNormalCdf(-1 / 255.0 / sigma);
        double edge = Likelihood.standardNormalCdf(1 / 255.0 / sigma);
        double expected = -(Math.log(inner) + Math.log(edge)) / 2 / Math.log(2);
        assertEquals(expected, bound.decoderBitsPerDim(x0, new float[] {0.3f, 0.3f}, x0), 1e-9);
        assertEquals(expected, bound.termBitsPerDim(0, x0, new float[] {0.3f, 0.3f}, x0), 1e-9);
    }
}

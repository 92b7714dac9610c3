package dev.ddpmfarm.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RateDistortionTest {
    /** T = 3: prior 0.5, decoder L_0 = 1, KL terms L_1 = 0.25 and L_2 = 0.125. */
    private static final double[] TERMS = {1.0, 0.25, 0.125};
    private static final double[] RMSE = {2, 20, 60};

    @Test
    @DisplayName("the rate sums the prior and the KL terms received so far; t = 0 is the lossless NLL")
    void cumulativeRate() {
        RateDistortion rd = RateDistortion.of(0.5, TERMS, RMSE, 7, TimestepSelection.ALL);
        assertEquals(List.of(new RateDistortion.Row(3, 0.5, 60), new RateDistortion.Row(2, 0.625, 20),
                new RateDistortion.Row(1, 0.875, 2)), rd.rows());
        assertEquals(1.875, rd.nllBitsPerDim(), 1e-12);
        assertEquals(1.0, rd.decoderBitsPerDim());
        assertEquals(7, rd.images());
        RateDistortion some = RateDistortion.of(0.5, TERMS, RMSE, 7, new TimestepSelection(false, List.of(0, 3)));
        assertEquals(List.of(new RateDistortion.Row(3, 0.5, 60), new RateDistortion.Row(0, 1.875, 0)), some.rows());
        assertEquals("t,reverse_steps,rate_bits_per_dim,rmse_255\n3,0,0.500000,60.000000\n0,3,1.875000,0.000000\n",
                some.csv(3));
    }
}

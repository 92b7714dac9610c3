package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GaussianDiffusionTest {
    private static final GaussianDiffusion LINEAR = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);

    @Test
    @DisplayName("linear 1000-step posterior variance is 0 at t=0, ≈0.00979 at t=487 and ≈0.02 at t=999 (diffusers' pins)")
    void pinnedPosteriorVariance() {
        assertEquals(0.0, LINEAR.posteriorVariance(0));
        assertEquals(0.00979, LINEAR.posteriorVariance(487), 1e-5);
        assertEquals(0.02, LINEAR.posteriorVariance(999), 1e-5);
        assertEquals(0.00979157198569004, LINEAR.posteriorVariance(487), 1e-15);
        assertEquals(4.0358297653756754e-05, LINEAR.alphaBar(999), 1e-18);
        assertEquals(0.07858724288177821, LINEAR.alphaBar(499), 1e-15);
    }

    @Test
    @DisplayName("the linear schedule gives exactly the ᾱ the trainer has always used")
    void linearMatchesTheTrainersFormula() {
        double[] expected = new double[1000];
        double product = 1;
        for (int i = 0; i < 1000; i++) {
            product *= 1 - (1e-4 + (0.02 - 1e-4) * i / 999);
            expected[i] = product;
        }
        assertArrayEquals(expected, LINEAR.alphasCumprod(), 0.0);
        assertEquals(1e-4, LINEAR.beta(0), 1e-18);
        assertEquals(0.02, LINEAR.beta(999), 1e-15);
    }

    @Test
    @DisplayName("the posterior q(x_{t-1} | x_t, x_0) matches Bayes' rule applied to q(x_{t-1} | x_0) and q(x_t | x_{t-1})")
    void posteriorMatchesBayesRule() {
        for (GaussianDiffusion process : new GaussianDiffusion[] {LINEAR, GaussianDiffusion.of(BetaSchedule.COSINE, 1000)}) {
            double alphaBar = 1;
            double[] betas = process.betas();
            for (int t = 0; t < betas.length; t++) {
                double prevAlphaBar = alphaBar;
                alphaBar *= 1 - betas[t];
                assertEquals(alphaBar, process.alphaBar(t), 1e-15);
                assertEquals(Math.sqrt(alphaBar), process.sqrtAlphaBar(t), 1e-15);
                assertEquals(Math.sqrt(1 - alphaBar), process.sqrtOneMinusAlphaBar(t), 1e-15);
                assertEquals(1 / Math.sqrt(alphaBar), process.sqrtRecipAlphaBar(t), 1e-9 / Math.sqrt(alphaBar));
                assertEquals(Math.sqrt(1 - alphaBar) / Math.sqrt(alphaBar), process.sqrtRecipm1AlphaBar(t),
                        1e-9 / Math.sqrt(alphaBar));
                if (t == 0) {
                    assertEquals(1.0, process.posteriorMeanCoef1(0), 1e-12);
                    assertEquals(0.0, process.posteriorMeanCoef2(0), 1e-15);
                    continue;
                }
                // N(x_{t-1}; √ᾱ_{t-1} x_0, 1-ᾱ_{t-1}) · N(x_t; √α_t x_{t-1}, β_t), normalised in x_{t-1}
                double precision = 1 / (1 - prevAlphaBar) + (1 - betas[t]) / betas[t];
                double variance = 1 / precision;
                assertEquals(variance, process.posteriorVariance(t), 1e-12 * variance);
                assertEquals(Math.log(variance), process.posteriorLogVarianceClipped(t), 1e-9);
                assertEquals(variance * Math.sqrt(prevAlphaBar) / (1 - prevAlphaBar), process.posteriorMeanCoef1(t), 1e-9);
                assertEquals(variance * Math.sqrt(1 - betas[t]) / betas[t], process.posteriorMeanCoef2(t), 1e-9);
            }
        }
    }

    @Test
    @DisplayName("log-variances: the posterior's is clipped to log β̃ of step 1 at t=0, and σ²=β_t uses it there too")
    void clippedLogVariances() {
        assertEquals(-9.81672513529567, LINEAR.posteriorLogVarianceClipped(0), 1e-12);
        assertEquals(Math.log(LINEAR.posteriorVariance(1)), LINEAR.posteriorLogVarianceClipped(0), 0.0);
        assertEquals(LINEAR.posteriorLogVarianceClipped(0), LINEAR.modelLogVariance(VarianceType.BETA, 0), 0.0);
        assertEquals(LINEAR.posteriorLogVarianceClipped(0), LINEAR.modelLogVariance(VarianceType.POSTERIOR, 0), 0.0);
        for (int t : new int[] {1, 487, 999}) {
            assertEquals(Math.log(LINEAR.beta(t)), LINEAR.modelLogVariance(VarianceType.BETA, t), 1e-15);
            assertEquals(Math.log(LINEAR.posteriorVariance(t)), LINEAR.modelLogVariance(VarianceType.POSTERIOR, t), 1e-15);
        }
    }

    @Test
    @DisplayName("x̂_0 from ε inverts q_sample, and the posterior mean of (x_0, x_t) is Eq. 7")
    void forwardAndBack() {
        float[] x0 = {-0.9f, -0.2f, 0f, 0.4f, 1f};
        float[] eps = {1.2f, -0.3f, 0.7f, -2f, 0.1f};
        for (int t : new int[] {0, 10, 500, 999}) {
            float[] xt = LINEAR.qSample(x0, t, eps);
            assertEquals(LINEAR.sqrtAlphaBar(t) * x0[3] + LINEAR.sqrtOneMinusAlphaBar(t) * eps[3], xt[3], 1e-6);
            float[] back = LINEAR.predictXStartFromEps(xt, t, eps, false);
            assertArrayEquals(x0, back, t == 999 ? 2e-2f : 1e-4f);
            float[] mean = LINEAR.qPosteriorMean(x0, xt, t);
            assertEquals(LINEAR.posteriorMeanCoef1(t) * x0[1] + LINEAR.posteriorMeanCoef2(t) * xt[1], mean[1], 1e-6);
        }
        float[] clipped = LINEAR.predictXStartFromEps(new float[] {3f, -3f, 0.5f}, 0, new float[3], true);
        assertArrayEquals(new float[] {1f, -1f, (float) (0.5 * LINEAR.sqrtRecipAlphaBar(0))}, clipped, 1e-7f);
    }

    @Test
    @DisplayName("respacing that keeps every step reproduces the process, with the identity timestep map")
    void respacingIdentity() {
        int[] all = Respacing.evenly(1000, 1000);
        GaussianDiffusion same = LINEAR.respace(all);
        assertFalse(same.respaced());
        assertArrayEquals(LINEAR.betas(), same.betas(), 1e-15);
        assertArrayEquals(LINEAR.alphasCumprod(), same.alphasCumprod(), 1e-15);
        for (int t = 0; t < 1000; t++) {
            assertEquals(t, same.modelTimestep(t));
            assertEquals(LINEAR.posteriorVariance(t), same.posteriorVariance(t), 1e-15);
        }
    }

    @Test
    @DisplayName("a respaced process keeps ᾱ at the kept steps and maps its timesteps back to the original ones")
    void respacingKeepsAlphaBar() {
        int[] kept = Respacing.evenly(1000, 50);
        GaussianDiffusion spaced = LINEAR.respace(kept);
        assertTrue(spaced.respaced());
        assertEquals(50, spaced.timesteps());
        assertEquals(1000, spaced.originalTimesteps());
        for (int k = 0; k < 50; k++) {
            assertEquals(kept[k], spaced.modelTimestep(k));
            assertEquals(LINEAR.alphaBar(kept[k]), spaced.alphaBar(k), 1e-12 * LINEAR.alphaBar(kept[k]));
        }
        assertEquals(1 - LINEAR.alphaBar(kept[1]) / LINEAR.alphaBar(kept[0]), spaced.beta(1), 1e-15);
        GaussianDiffusion twice = spaced.respace(new int[] {0, 49});
        assertEquals(999, twice.modelTimestep(1));
        assertEquals(LINEAR.alphaBar(999), twice.alphaBar(1), 1e-12 * LINEAR.alphaBar(999));
        assertThrows(IllegalArgumentException.class, () -> LINEAR.respace(new int[] {5, 5}));
        assertThrows(IllegalArgumentException.class, () -> LINEAR.respace(new int[] {1000}));
    }

    @Test
    @DisplayName("DDIM's σ_t(η) is 0 for η=0 and √β̃_t for η=1")
    void ddimSigma() {
        for (int t : new int[] {1, 100, 999}) {
            assertEquals(0.0, LINEAR.ddimSigma(t, 0));
            assertEquals(Math.sqrt(LINEAR.posteriorVariance(t)), LINEAR.ddimSigma(t, 1), 1e-12);
            assertEquals(0.5 * Math.sqrt(LINEAR.posteriorVariance(t)), LINEAR.ddimSigma(t, 0.5), 1e-12);
        }
    }

    @Test
    @DisplayName("the cosine schedule follows ᾱ(t) = f(t)/f(0) and caps β at 0.999")
    void cosineSchedule() {
        GaussianDiffusion cosine = GaussianDiffusion.of(BetaSchedule.COSINE, 1000);
        double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
        for (int t : new int[] {0, 250, 499, 900}) {
            double f = Math.pow(Math.cos(((t + 1) / 1000.0 + 0.008) / 1.008 * Math.PI / 2), 2);
            assertEquals(f / f0, cosine.alphaBar(t), 1e-12);
        }
        assertEquals(0.4938435904406382, cosine.alphaBar(499), 1e-12);
        assertEquals(0.999, cosine.beta(999));
        assertTrue(cosine.beta(0) < 1e-4);
    }

    @Test
    @DisplayName("modes are looked up by wire name and an unknown name fails, listing the known ones")
    void wireNames() {
        assertEquals(BetaSchedule.LINEAR, BetaSchedule.fromWireName("linear"));
        assertEquals(BetaSchedule.COSINE, BetaSchedule.fromWireName("cosine"));
        assertEquals(VarianceType.POSTERIOR, VarianceType.fromWireName("posterior"));
        assertEquals(Sampler.DDIM, Sampler.fromWireName("ddim"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sampler.fromWireName("euler"));
        assertEquals("unknown sampler 'euler', expected one of ddpm, ddim", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BetaSchedule.fromWireName("quad"));
        assertThrows(IllegalArgumentException.class, () -> new GaussianDiffusion(new double[] {0.1, 0}));
    }
}

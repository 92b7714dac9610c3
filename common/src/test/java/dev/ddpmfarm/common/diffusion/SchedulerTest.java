package dev.ddpmfarm.common.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SchedulerTest {
    private static final GaussianDiffusion LINEAR = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);
    private static final float[] XT = {-1.5f, -0.4f, 0f, 0.3f, 2.1f};
    private static final float[] EPS = {0.9f, -0.2f, 0.4f, 1.1f, -0.7f};
    private static final float[] Z = {0.1f, -1.3f, 0.8f, 0.05f, -0.6f};

    @Test
    @DisplayName("an unclipped DDPM step is Algorithm 2: 1/√α_t (x_t − β_t/√(1−ᾱ_t) ε) + σ_t z")
    void ddpmIsAlgorithm2() {
        for (VarianceType variance : VarianceType.values()) {
            Scheduler scheduler = new Scheduler(LINEAR, Sampler.DDPM, variance, 0, false);
            for (int t : new int[] {1, 250, 999}) {
                double sigma = Math.sqrt(variance == VarianceType.BETA ? LINEAR.beta(t) : LINEAR.posteriorVariance(t));
                float[] prev = scheduler.step(t, XT, EPS, Z).prevSample();
                for (int i = 0; i < XT.length; i++) {
                    double expected = (XT[i] - LINEAR.beta(t) / Math.sqrt(1 - LINEAR.alphaBar(t)) * EPS[i])
                            / Math.sqrt(LINEAR.alpha(t)) + sigma * Z[i];
                    assertEquals(expected, prev[i], 2e-5, variance + " t=" + t);
                }
            }
        }
    }

    @Test
    @DisplayName("the last step adds no noise and returns x̂_0, clipped to [-1, 1]")
    void lastStep() {
        Scheduler scheduler = Scheduler.create(LINEAR, Sampler.DDPM, 1000, VarianceType.BETA, 0);
        assertFalse(scheduler.needsNoise(0));
        assertTrue(scheduler.needsNoise(1));
        Scheduler.Step step = scheduler.step(0, XT, EPS, null);
        assertArrayEquals(step.predXStart(), step.prevSample());
        for (float v : step.prevSample()) {
            assertTrue(v >= -1 && v <= 1);
        }
        assertEquals(-1f, step.prevSample()[0]);
        assertThrows(IllegalArgumentException.class, () -> scheduler.step(5, XT, EPS, null));
    }

    @Test
    @DisplayName("DDIM with η=1 takes the same step as DDPM with σ²=β̃; with η=0 it needs no noise")
    void ddimEtaOneIsDdpm() {
        Scheduler ddim = Scheduler.create(LINEAR, Sampler.DDIM, 50, VarianceType.BETA, 1.0);
        Scheduler ddpm = Scheduler.create(LINEAR, Sampler.DDPM, 50, VarianceType.POSTERIOR, 0);
        for (int k : new int[] {1, 20, 49}) {
            assertArrayEquals(ddpm.step(k, XT, EPS, Z).prevSample(), ddim.step(k, XT, EPS, Z).prevSample(), 1e-5f);
        }
        Scheduler deterministic = Scheduler.create(LINEAR, Sampler.DDIM, 50, VarianceType.BETA, 0);
        assertFalse(deterministic.needsNoise(30));
        assertArrayEquals(ddim.step(30, XT, EPS, Z).predXStart(), deterministic.step(30, XT, EPS, null).predXStart());
    }

    @Test
    @DisplayName("a job's steps respace the model's process evenly, keeping the first and last model timestep")
    void create() {
        Scheduler full = Scheduler.create(LINEAR, Sampler.DDPM, 1000, VarianceType.BETA, 0);
        assertEquals(1000, full.steps());
        assertFalse(full.process().respaced());
        Scheduler spaced = Scheduler.create(LINEAR, Sampler.DDIM, 50, VarianceType.BETA, 0);
        assertEquals(50, spaced.steps());
        assertEquals(1000, spaced.modelTimesteps());
        assertEquals(999, spaced.modelTimestep(49));
        assertEquals(0, spaced.modelTimestep(0));
        assertThrows(IllegalArgumentException.class, () -> Scheduler.create(LINEAR, Sampler.DDPM, 10, VarianceType.BETA, 0.5));
        assertThrows(IllegalArgumentException.class, () -> Scheduler.create(LINEAR, Sampler.DDIM, 10, VarianceType.BETA, -1));
        assertThrows(IllegalArgumentException.class, () -> Scheduler.create(LINEAR, Sampler.DDIM, 0, VarianceType.BETA, 0));
    }
}

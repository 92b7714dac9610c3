package dev.ddpmfarm.worker.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.model.UNetParameters;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The batched sampler on a tiny class-conditional U-Net with random weights: determinism, resumption, guidance. */
class BatchSamplerTest {
    private static final UNetConfig TINY = new UNetConfig(1, 8, 8, new int[] {1, 2}, 1, new int[] {4}, 4, 10);
    private static final GaussianDiffusion PROCESS = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);
    private static final Scheduler DDPM_10 = Scheduler.create(PROCESS, Sampler.DDPM, 10, VarianceType.BETA, 0);
    private static final Scheduler DDIM_4 = Scheduler.create(PROCESS, Sampler.DDIM, 4, VarianceType.BETA, 0.5);
    private static final Scheduler DDPM_7 = Scheduler.create(PROCESS, Sampler.DDPM, 7, VarianceType.POSTERIOR, 0);

    private static UNetModel model;
    private static BatchSampler sampler;

    /** Every parameter random, none zero-initialised, so that ε depends on x, t and the class. */
    @BeforeAll
    static void randomModel() {
        Nd4j.getRandom().setSeed(5);
        Map<String, INDArray> params = new LinkedHashMap<>();
        UNetParameters.shapes(TINY).forEach((name, shape) -> {
            INDArray p = Nd4j.randn(DataType.FLOAT, shape).muli(0.3);
            params.put(name, name.endsWith(".g") ? p.addi(1) : p);
        });
        model = new UNetModel(TINY, 1000, params);
        sampler = new BatchSampler(model);
    }

    private static SampleState start(String job, long index, Scheduler scheduler, int label, double guidance) {
        return SampleState.start(job, index, 42, scheduler, label, Guidance.of(guidance), sampler.dims());
    }

    @Test
    @DisplayName("a sample is bit-identical alone and inside mixed batches of other jobs at other timesteps")
    void aloneEqualsMixed() {
        SampleState target = start("a", 3, DDPM_10, 2, 1);
        float[] alone = sampler.run(List.of(target), 1, StepListener.NONE).get(0).x();

        List<SampleState> mixed = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            mixed.add(start("b", i, DDIM_4, Denoiser.NO_CLASS, 1));
            mixed.add(start("c", i, DDPM_7, i % 10, i % 2 == 0 ? 3.0 : 1));
        }
        mixed.add(24, target);
        int[] calls = {0};
        Denoiser counting = new Denoiser() {
            @Override
            public INDArray predictEps(INDArray xt, int[] t, int[] classes) {
                calls[0]++;
                return model.predictEps(xt, t, classes);
            }

            @Override
            public int[] imageShape() {
                return model.imageShape();
            }

            @Override
            public int numClasses() {
                return model.numClasses();
            }

            @Override
            public int timesteps() {
                return model.timesteps();
            }
        };
        Map<Integer, List<StepResult>> byCall = new LinkedHashMap<>();
        List<SampleState> results = new BatchSampler(counting).run(mixed, 24,
                result -> byCall.computeIfAbsent(calls[0], c -> new ArrayList<>()).add(result));
        assertArrayEquals(alone, results.get(24).x());
        Set<Integer> batchSizes = new HashSet<>();
        Set<Integer> companionTimesteps = new HashSet<>();
        byCall.values().stream().filter(batch -> batch.stream().anyMatch(r -> r.sample().job().equals("a")))
                .forEach(batch -> {
                    batchSizes.add(batch.size());
                    batch.forEach(r -> companionTimesteps.add(r.timestep()));
                });
        assertTrue(batchSizes.size() > 1, "the target must have shared batches of different sizes: " + batchSizes);
        assertTrue(companionTimesteps.size() > 10, "the target must have met samples at other timesteps: "
                + companionTimesteps);
        assertTrue(results.stream().allMatch(SampleState::done));
        assertEquals("c", results.get(26).job(), "results come back in the order of the input");
    }

    @Test
    @DisplayName("a sample resumed from its x_t checkpoint continues bit-identically")
    void resume() {
        SampleState guided = start("g", 1, DDPM_10, 7, 2.5);
        List<StepResult> trace = new ArrayList<>();
        float[] full = sampler.run(List.of(guided, start("h", 0, DDIM_4, 1, 1)), 3, result -> {
            if (result.sample().job().equals("g")) {
                trace.add(result);
            }
        }).get(0).x();
        assertEquals(10, trace.size());
        StepResult checkpoint = trace.get(3);
        SampleState resumed = new SampleState("g", 1, 42, DDPM_10, 7, Guidance.of(2.5), checkpoint.step(),
                checkpoint.x().clone());
        assertEquals(4, resumed.position());
        assertEquals(trace.get(4).timestep(), resumed.timestep());
        assertArrayEquals(full, sampler.run(List.of(resumed), 8, StepListener.NONE).get(0).x());
    }

    @Test
    @DisplayName("guidance takes an unconditional row in the same pass and combines ε(x,∅) + w (ε(x,c) − ε(x,∅))")
    void guidance() {
        SampleState s = start("g", 0, DDPM_10, 4, 3.0);
        assertEquals(2, s.rows());
        StepResult stepped = sampler.step(List.of(s)).get(0);

        INDArray x = Tensors.batch(s.x(), 1, model.imageShape());
        float[] cond = Tensors.flat(model.predictEps(x, new int[] {s.timestep()}, new int[] {4}));
        float[] uncond = Tensors.flat(model.predictEps(x, new int[] {s.timestep()}, new int[] {Denoiser.NO_CLASS}));
        float[] eps = new float[cond.length];
        for (int i = 0; i < eps.length; i++) {
            eps[i] = (float) (uncond[i] + 3.0 * (cond[i] - uncond[i]));
        }
        float[] noise = KeyedNoise.gaussian(42, 0, s.timestep(), eps.length);
        Scheduler.Step expected = DDPM_10.step(s.stepIndex(), s.x(), eps, noise);
        assertArrayEquals(expected.prevSample(), stepped.x(), 1e-5f);
        assertArrayEquals(expected.predXStart(), stepped.predXStart(), 1e-5f);
        assertEquals(999, stepped.timestep());
        assertEquals(1, stepped.step());

        StepResult plain = sampler.step(List.of(start("g", 0, DDPM_10, 4, 1.0))).get(0);
        assertFalse(java.util.Arrays.equals(plain.x(), stepped.x()), "guidance must change the step");
    }

    @Test
    @DisplayName("guidance in an interval guides only its steps, and the others take the plain conditional ε")
    void guidanceInterval() {
        Guidance interval = new Guidance(3.0, 0.25, 0.75);
        SampleState s = SampleState.start("i", 2, 42, DDIM_4, 5, interval, sampler.dims());
        List<Integer> rows = new ArrayList<>();
        List<Integer> reserved = new ArrayList<>();
        for (SampleState t = s; !t.done(); t = sampler.step(List.of(t)).get(0).sample()) {
            rows.add(t.rows());
            reserved.add(t.peakRows());
        }
        assertEquals(List.of(1, 2, 2, 1), rows, "of 4 steps, ⌊0.25·4⌋ = 1 … ⌊0.75·4⌋ − 1 = 2 are guided");
        assertEquals(List.of(2, 2, 2, 1), reserved, "two rows until the last guided step, then one");

        SampleState plain = SampleState.start("i", 2, 42, DDIM_4, 5, Guidance.NONE, sampler.dims());
        SampleState first = sampler.step(List.of(plain)).get(0).sample();
        SampleState guided = new SampleState("i", 2, 42, DDIM_4, 5, Guidance.of(3.0), 1, first.x());
        for (int k = 0; k < 2; k++) {
            guided = sampler.step(List.of(guided)).get(0).sample();
        }
        SampleState last = new SampleState("i", 2, 42, DDIM_4, 5, Guidance.NONE, 3, guided.x());
        float[] expected = sampler.step(List.of(last)).get(0).x();
        List<StepResult> trace = new ArrayList<>();
        assertArrayEquals(expected, sampler.run(List.of(s), 2, trace::add).get(0).x());
        for (int p = 1; p < 4; p++) {
            SampleState resumed = new SampleState("i", 2, 42, DDIM_4, 5, interval, p, trace.get(p - 1).x().clone());
            assertArrayEquals(expected, sampler.run(List.of(resumed), 2, StepListener.NONE).get(0).x(),
                    "resumed before, inside and after the interval, at step " + p);
        }
        assertFalse(java.util.Arrays.equals(expected, sampler.run(List.of(start("i", 2, DDIM_4, 5, 3.0)), 2,
                StepListener.NONE).get(0).x()), "guidance at every step must differ");
    }

    @Test
    @DisplayName("a continuous batch admits by priority, then arrival, and lets samples join and leave between steps")
    void continuousBatch() {
        ContinuousBatch<String> batch = new ContinuousBatch<>(sampler, 2);
        batch.add("low", start("low", 0, DDIM_4, 1, 1), 1);
        batch.add("high", start("high", 0, DDIM_4, 1, 1), 9);
        batch.add("high-later", start("high", 1, DDIM_4, 1, 1), 9);
        assertEquals(List.of("high", "high-later"), batch.step().stream().map(ContinuousBatch.Stepped::owner).toList());
        batch.add("guided", start("g", 0, DDIM_4, 1, 3.0), 9);
        assertEquals(2, batch.remove(o -> o.startsWith("high")).size());
        assertEquals(List.of("guided"), batch.step().stream().map(ContinuousBatch.Stepped::owner).toList(),
                "a guided sample takes both rows");
        int steps = 0;
        while (!batch.isEmpty()) {
            steps += batch.step().size();
        }
        assertEquals(3 + 4, steps, "guided finishes its 3 remaining steps, then low runs its 4");

        ContinuousBatch<String> reserved = new ContinuousBatch<>(sampler, 3);
        reserved.add("late", SampleState.start("late", 0, 42, DDIM_4, 1, new Guidance(3.0, 0.5, 1), sampler.dims()), 0);
        reserved.add("plain", start("plain", 0, DDIM_4, 1, 1), 0);
        reserved.add("waits", start("waits", 0, DDIM_4, 1, 1), 0);
        assertEquals(List.of("late", "plain"), reserved.step().stream().map(ContinuousBatch.Stepped::owner).toList(),
                "a sample guided later holds its two rows from its first step");

        ContinuousBatch<String> released = new ContinuousBatch<>(sampler, 3);
        released.add("early", SampleState.start("early", 0, 42, DDIM_4, 1, new Guidance(3.0, 0, 0.5), sampler.dims()),
                0);
        released.add("plain", start("plain", 0, DDIM_4, 1, 1), 0);
        released.add("waits", start("waits", 0, DDIM_4, 1, 1), 0);
        List<List<String>> passes = new ArrayList<>();
        while (!released.isEmpty()) {
            passes.add(released.step().stream().map(ContinuousBatch.Stepped::owner).toList());
        }
        assertEquals(List.of(List.of("early", "plain"), List.of("early", "plain"), List.of("early", "plain", "waits"),
                List.of("early", "plain", "waits"), List.of("waits"), List.of("waits")), passes,
                "a sample whose guided steps are behind it gives its second row back");
    }

    @Test
    @DisplayName("samples the model cannot take are rejected before the forward pass")
    void rejects() {
        SampleState done = new SampleState("d", 0, 1, DDIM_4, 1, Guidance.NONE, 4, new float[64]);
        assertThrows(IllegalArgumentException.class, () -> sampler.step(List.of(done)));
        assertThrows(IllegalArgumentException.class, () -> sampler.step(List.of(start("x", 0, DDIM_4, 10, 1))));
        Scheduler other = Scheduler.create(GaussianDiffusion.of(BetaSchedule.LINEAR, 500), Sampler.DDIM, 5,
                VarianceType.BETA, 0);
        assertThrows(IllegalArgumentException.class, () -> sampler.step(List.of(start("x", 0, other, 1, 1))));
        assertThrows(IllegalArgumentException.class, () -> start("x", 0, DDIM_4, Denoiser.NO_CLASS, 2));
        BatchSampler unconditional = new BatchSampler(GaussianData.denoiser());
        SampleState labelled = SampleState.start("u", 0, 1, DDIM_4, 0, Guidance.NONE, GaussianData.DIMS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> unconditional.step(List.of(labelled)));
        assertTrue(e.getMessage().contains("unconditional"), e.getMessage());
    }
}

package dev.ddpmfarm.worker.sampling;

import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.worker.model.Denoiser;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reverse diffusion for many samples at once: one forward pass of the {@link Denoiser} serves samples that sit at
 * different timesteps, belong to different jobs, use different samplers and carry different classes, and each then
 * takes its own step. This is what lets the farm batch across jobs at step granularity.
 *
 * <p>A sample's randomness depends only on its key: x_T and the noise of step t are drawn from generators keyed by
 * (seed, index, T) and (seed, index, t) ({@link KeyedNoise}), and its update is plain Java arithmetic on its own
 * values. A sample is therefore the same alone, in any batch, and when resumed from a checkpoint, as far as the
 * denoiser's own rows are independent of their batch.
 */
public final class BatchSampler {
    private final Denoiser denoiser;
    private final int[] imageShape;
    private final int dims;

    public BatchSampler(Denoiser denoiser) {
        this.denoiser = denoiser;
        this.imageShape = denoiser.imageShape();
        this.dims = Arrays.stream(imageShape).reduce(1, (a, b) -> a * b);
    }

    /** C·H·W of the denoiser's images, the length of every sample's x. */
    public int dims() {
        return dims;
    }

    /**
     * Takes one reverse step for every sample in {@code batch} with a single forward pass: one row per sample, plus an
     * unconditional row for each sample whose step is guided, whose ε becomes ε(x, ∅) + w (ε(x, c) − ε(x, ∅)).
     *
     * @return one result per sample, in order
     */
    public List<StepResult> step(List<SampleState> batch) {
        int rows = batch.stream().mapToInt(SampleState::rows).sum();
        float[] input = new float[rows * dims];
        int[] timesteps = new int[rows];
        int[] classes = new int[rows];
        int row = 0;
        for (SampleState s : batch) {
            check(s);
            for (int r = 0; r < s.rows(); r++, row++) {
                System.arraycopy(s.x(), 0, input, row * dims, dims);
                timesteps[row] = s.timestep();
                classes[row] = r == 0 ? s.classLabel() : Denoiser.NO_CLASS;
            }
        }
        float[] out = Tensors.flat(denoiser.predictEps(Tensors.batch(input, rows, imageShape), timesteps, classes));

        List<StepResult> results = new ArrayList<>(batch.size());
        row = 0;
        for (SampleState s : batch) {
            float[] e = Arrays.copyOfRange(out, row * dims, (row + 1) * dims);
            if (s.guided()) {
                double w = s.guidance().scale();
                int uncond = (row + 1) * dims;
                for (int j = 0; j < dims; j++) {
                    e[j] = (float) (out[uncond + j] + w * (e[j] - out[uncond + j]));
                }
            }
            row += s.rows();
            Scheduler scheduler = s.scheduler();
            int k = s.stepIndex();
            float[] noise = scheduler.needsNoise(k) ? KeyedNoise.gaussian(s.seed(), s.index(), s.timestep(), dims) : null;
            Scheduler.Step step = scheduler.step(k, s.x(), e, noise);
            results.add(new StepResult(s.advance(step.prevSample()), s.timestep(), step.predXStart()));
        }
        return results;
    }

    /**
     * Runs every sample to completion in a {@link ContinuousBatch} of up to {@code maxRows} forward rows: whenever
     * samples finish, the next waiting ones join at their own first step. Samples already done are returned as they
     * are.
     *
     * @return the final states (x = x_0), in the order of {@code samples}
     */
    public List<SampleState> run(List<SampleState> samples, int maxRows, StepListener listener) {
        ContinuousBatch<Integer> batch = new ContinuousBatch<>(this, maxRows);
        SampleState[] finished = new SampleState[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            if (samples.get(i).done()) {
                finished[i] = samples.get(i);
            } else {
                batch.add(i, samples.get(i), 0);
            }
        }
        while (!batch.isEmpty()) {
            for (ContinuousBatch.Stepped<Integer> s : batch.step()) {
                listener.onStep(s.result());
                if (s.result().sample().done()) {
                    finished[s.owner()] = s.result().sample();
                }
            }
        }
        return Arrays.asList(finished);
    }

    private void check(SampleState s) {
        if (s.done()) {
            throw new IllegalArgumentException("sample " + s.index() + " of job " + s.job() + " has no step left");
        }
        if (s.x().length != dims) {
            throw new IllegalArgumentException("sample x has " + s.x().length + " values, the denoiser takes " + dims);
        }
        if (s.scheduler().modelTimesteps() != denoiser.timesteps()) {
            throw new IllegalArgumentException("the scheduler respaces a " + s.scheduler().modelTimesteps()
                    + "-step process but the model was trained with T = " + denoiser.timesteps());
        }
        int classes = denoiser.numClasses();
        if (s.classLabel() != Denoiser.NO_CLASS && s.classLabel() >= classes) {
            throw new IllegalArgumentException(classes == 0 ? "the model is unconditional: it takes no class"
                    : "class " + s.classLabel() + " outside 0.." + (classes - 1));
        }
    }
}

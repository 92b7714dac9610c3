package dev.ddpmfarm.worker.sampling;

import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.worker.model.Denoiser;

/**
 * Where one sample of one job stands in its reverse process: everything needed to take its next step in any batch,
 * or to resume it from a checkpoint of {@code x}. Immutable; {@link BatchSampler#step} returns the next state.
 *
 * @param job        the job it belongs to (for the caller's bookkeeping)
 * @param index      its index within the job, which keys its noise
 * @param seed       the job's seed, which keys its noise
 * @param scheduler  sampler, η, variance and the (respaced) steps
 * @param classLabel the class to condition on, or {@link Denoiser#NO_CLASS}
 * @param guidance   classifier-free guidance and the steps it applies to; a guided step takes two forward rows, and
 *                   guidance needs a class
 * @param position   reverse steps already taken, 0 … {@code scheduler.steps()}
 * @param x          x_t after {@code position} steps (x_T at 0, x_0 when done), {@code [C, H, W]}; owned by the state
 */
public record SampleState(String job, long index, long seed, Scheduler scheduler, int classLabel, Guidance guidance,
                          int position, float[] x) {

    public SampleState {
        if (scheduler == null || guidance == null || x == null) {
            throw new IllegalArgumentException("a sample needs a scheduler, guidance and x");
        }
        if (position < 0 || position > scheduler.steps()) {
            throw new IllegalArgumentException("position must lie in 0.." + scheduler.steps() + ", got " + position);
        }
        if (classLabel < Denoiser.NO_CLASS) {
            throw new IllegalArgumentException("class must be >= 0 or NO_CLASS, got " + classLabel);
        }
        if (guidance.any() && classLabel == Denoiser.NO_CLASS) {
            throw new IllegalArgumentException("classifier-free guidance needs a class");
        }
    }

    /** A sample at x_T, drawn from N(0, I) by the generator keyed by (seed, index, T). */
    public static SampleState start(String job, long index, long seed, Scheduler scheduler, int classLabel,
                                    Guidance guidance, int dims) {
        float[] xT = KeyedNoise.gaussian(seed, index, scheduler.modelTimesteps(), dims);
        return new SampleState(job, index, seed, scheduler, classLabel, guidance, 0, xT);
    }

    /** Whether every step has been taken ({@link #x} is then the sample x_0). */
    public boolean done() {
        return position == scheduler.steps();
    }

    /** The index k into the scheduler's process of the next step (counting down to 0). */
    public int stepIndex() {
        return scheduler.steps() - 1 - position;
    }

    /** The model timestep of the next step, what the network sees and what keys the step's noise. */
    public int timestep() {
        return scheduler.modelTimestep(stepIndex());
    }

    /** Whether the next step needs a second, unconditional forward row for classifier-free guidance. */
    public boolean guided() {
        return guidance.at(position, scheduler.steps());
    }

    /** Forward-pass rows the next step takes: 2 with guidance, 1 without. */
    public int rows() {
        return guided() ? 2 : 1;
    }

    /**
     * The most forward-pass rows any of its remaining steps takes: what a batch reserves for it. It never grows as
     * the sample advances, so a batch that admitted it never has to make room later.
     */
    public int peakRows() {
        return guidance.guidedFrom(position, scheduler.steps()) ? 2 : 1;
    }

    /** This sample one step further on, at {@code next}. */
    SampleState advance(float[] next) {
        return new SampleState(job, index, seed, scheduler, classLabel, guidance, position + 1, next);
    }
}

package dev.ddpmfarm.worker.sampling;

/**
 * One sample after one reverse step.
 *
 * @param sample     the new state: its {@code x} is x_{t-1} and its {@code position} the number of steps taken
 * @param timestep   the model timestep t the step started from (0-based)
 * @param predXStart the model's x̂_0 at that step (clipped as the sampler uses it), {@code [C, H, W]}
 */
public record StepResult(SampleState sample, int timestep, float[] predXStart) {

    /** Steps taken so far, 1 … steps. */
    public int step() {
        return sample.position();
    }

    /** x_{t-1}, {@code [C, H, W]}. */
    public float[] x() {
        return sample.x();
    }
}

package dev.ddpmfarm.worker.sampling;

/** Called after every reverse step of every sample, for progress, frames and checkpoints. */
@FunctionalInterface
public interface StepListener {
    StepListener NONE = result -> {
    };

    void onStep(StepResult result);
}

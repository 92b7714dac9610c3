package dev.ddpmfarm.common.wire;

/**
 * How far a job is (SPEC §3 job document).
 *
 * @param step        reverse steps done by the most recently reporting shard
 * @param totalSteps  reverse steps per sample
 * @param samplesDone finished samples over all shards
 * @param count       samples of the job
 */
public record Progress(int step, int totalSteps, long samplesDone, long count) {
    public Progress {
        if (step < 0 || totalSteps < 0 || step > totalSteps && totalSteps > 0) {
            throw new IllegalArgumentException("step must be in 0 … totalSteps, was " + step + "/" + totalSteps);
        }
        if (samplesDone < 0 || count < 0 || samplesDone > count) {
            throw new IllegalArgumentException("samplesDone must be in 0 … count, was " + samplesDone + "/" + count);
        }
    }

    /** No work done yet on a job of {@code count} samples of {@code totalSteps} steps. */
    public static Progress start(int totalSteps, long count) {
        return new Progress(0, totalSteps, 0, count);
    }
}

package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * Reverse-diffusion progress (SPEC §4). On the topic the counts are the shard's; in the client stream
 * {@code samplesDone} and {@code count} are the job's.
 *
 * @param step        reverse steps done, 0 … totalSteps
 * @param totalSteps  reverse steps per sample
 * @param t           the timestep just reached (paper notation, T … 0)
 * @param samplesDone finished samples
 * @param count       samples in total
 */
public record ProgressEvent(int schemaVersion, String jobId, String tenant, long seq, int shard, Instant at,
                            int step, int totalSteps, int t, long samplesDone, long count) implements JobEvent {

    public ProgressEvent {
        Violations v = new Violations();
        JobEvent.checkCommon(v, schemaVersion, jobId, tenant, seq, shard, at);
        v.check(totalSteps >= 0 && step >= 0 && step <= totalSteps, "step", "must be in 0 … totalSteps");
        v.check(t >= 0, "t", "must be >= 0");
        v.check(count >= 0 && samplesDone >= 0 && samplesDone <= count, "samplesDone", "must be in 0 … count");
        v.throwIfAny();
    }

    /** Progress of shard {@code shard} as a worker reports it. */
    public static ProgressEvent of(String jobId, String tenant, int shard, Instant at, int step, int totalSteps, int t,
                                   long samplesDone, long count) {
        return new ProgressEvent(SCHEMA_VERSION, jobId, tenant, 0, shard, at, step, totalSteps, t, samplesDone, count);
    }

    @Override
    public ProgressEvent withSeq(long newSeq) {
        return new ProgressEvent(schemaVersion, jobId, tenant, newSeq, shard, at, step, totalSteps, t, samplesDone,
                count);
    }

    /** This event with the job's step and totals instead of the shard's. */
    public ProgressEvent withJobProgress(int jobStep, long jobSamplesDone, long jobCount) {
        return new ProgressEvent(schemaVersion, jobId, tenant, seq, shard, at, jobStep, totalSteps, t, jobSamplesDone,
                jobCount);
    }
}

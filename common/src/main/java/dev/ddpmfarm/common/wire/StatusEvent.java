package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * A change of status. On connect the WebSocket first sends one with the job's current status and progress.
 *
 * @param status     the new status
 * @param progress   the job's progress (client stream), or null
 * @param error      why it failed (status failed), or null
 * @param submission what was accepted (only on the gateway's {@code status queued}), or null
 */
public record StatusEvent(int schemaVersion, String jobId, String tenant, long seq, int shard, Instant at,
                          JobStatus status, Progress progress, String error, Submission submission)
        implements JobEvent {

    public StatusEvent {
        Violations v = new Violations();
        JobEvent.checkCommon(v, schemaVersion, jobId, tenant, seq, shard, at);
        v.check(status != null, "status", "required; one of " + WireEnum.names(JobStatus.class));
        v.check(submission == null || status == JobStatus.QUEUED, "submission", "only on status queued");
        v.throwIfAny();
    }

    /** A status change of job {@code jobId} (shard {@code shard}) as reported on the topic. */
    public static StatusEvent of(String jobId, String tenant, int shard, Instant at, JobStatus status) {
        return new StatusEvent(SCHEMA_VERSION, jobId, tenant, 0, shard, at, status, null, null, null);
    }

    /** This event carrying the job's progress. */
    public StatusEvent withProgress(Progress newProgress) {
        return new StatusEvent(schemaVersion, jobId, tenant, seq, shard, at, status, newProgress, error, submission);
    }

    /** This event carrying why the job failed. */
    public StatusEvent withError(String newError) {
        return new StatusEvent(schemaVersion, jobId, tenant, seq, shard, at, status, progress, newError, submission);
    }

    @Override
    public StatusEvent withSeq(long newSeq) {
        return new StatusEvent(schemaVersion, jobId, tenant, newSeq, shard, at, status, progress, error, submission);
    }
}

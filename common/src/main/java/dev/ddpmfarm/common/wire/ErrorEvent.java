package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * A shard failed for good (its retries are spent or the task cannot run); the job fails (SPEC §4).
 *
 * @param message what went wrong, readable by the user; never a secret or a stack trace
 */
public record ErrorEvent(int schemaVersion, String jobId, String tenant, long seq, int shard, Instant at,
                         String message) implements JobEvent {

    public ErrorEvent {
        Violations v = new Violations();
        JobEvent.checkCommon(v, schemaVersion, jobId, tenant, seq, shard, at);
        v.check(message != null && !message.isBlank(), "message", "required");
        v.throwIfAny();
    }

    public static ErrorEvent of(String jobId, String tenant, int shard, Instant at, String message) {
        return new ErrorEvent(SCHEMA_VERSION, jobId, tenant, 0, shard, at, message);
    }

    @Override
    public ErrorEvent withSeq(long newSeq) {
        return new ErrorEvent(schemaVersion, jobId, tenant, newSeq, shard, at, message);
    }
}

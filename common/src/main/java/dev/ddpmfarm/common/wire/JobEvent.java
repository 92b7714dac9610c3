package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/**
 * Something that happened to a job: the values of {@code farm.events.v1} (SPEC §5) and the text frames of the
 * WebSocket (SPEC §4), told apart by {@code type}.
 * <p>
 * On the topic, {@code seq} is 0 and {@link #shard()} says which task reported: workers send {@code status running},
 * {@code progress} (counted within the shard), {@code frame} and {@code result} (paths relative to the job's prefix,
 * SPEC §6) per shard, and {@code error} when a shard failed for good. The gateway sends the job-level
 * ({@link #JOB_LEVEL}) {@code status queued} with the {@link Submission} and {@code status cancelled}.
 * A shard's {@code result} means that shard succeeded.
 * <p>
 * The gateway's job store reads the topic in partition order and turns it into the job's stream as clients see it:
 * seq 1, 2, 3, … (the same numbers after a gateway restart, since it replays the same records in the same order),
 * progress summed over shards, one {@code result} with the manifest URL and then {@code status succeeded} when every
 * shard has succeeded, {@code error} then {@code status failed} when one failed.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = StatusEvent.class, name = "status"),
        @JsonSubTypes.Type(value = ProgressEvent.class, name = "progress"),
        @JsonSubTypes.Type(value = FrameEvent.class, name = "frame"),
        @JsonSubTypes.Type(value = ResultEvent.class, name = "result"),
        @JsonSubTypes.Type(value = ErrorEvent.class, name = "error")})
public sealed interface JobEvent extends WireMessage
        permits StatusEvent, ProgressEvent, FrameEvent, ResultEvent, ErrorEvent {

    /** The {@link #shard()} of an event about the whole job rather than one of its tasks. */
    int JOB_LEVEL = -1;

    String tenant();

    /** The position in the job's stream as clients see it, from 1; 0 on the topic. */
    long seq();

    /** The task that reported, or {@link #JOB_LEVEL}. */
    int shard();

    Instant at();

    /** This event at position {@code seq} of the job's stream. */
    JobEvent withSeq(long seq);

    /** Checks the members every event has. */
    static void checkCommon(Violations v, int schemaVersion, String jobId, String tenant, long seq, int shard,
                            Instant at) {
        WireMessage.checkVersion(v, schemaVersion);
        v.check(JobIds.valid(jobId), "jobId", "must be a job id (UUIDv7), was " + jobId);
        v.check(Tenants.valid(tenant), "tenant", "must match " + Tenants.PATTERN);
        v.check(seq >= 0, "seq", "must be >= 0");
        v.check(shard >= JOB_LEVEL, "shard", "must be >= -1");
        v.check(at != null, "at", "required");
    }
}

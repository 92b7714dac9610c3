package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * One unit of work on {@code farm.jobs.v1} (SPEC §5): the samples {@code [start, end)} of a job, with global sample
 * indices, so that sample i draws its noise from (seed, i, t) whichever shard runs it (SPEC §8, Determinism).
 *
 * @param schemaVersion {@link WireMessage#SCHEMA_VERSION} of the producer
 * @param jobId         the job
 * @param tenant        its owner (the object keys of SPEC §6 start with it)
 * @param shard         this task's index, 0 … shards−1
 * @param shards        the number of tasks of the job
 * @param start         first sample index, inclusive
 * @param end           last sample index, exclusive
 * @param request       the resolved request (seed and defaults filled in)
 * @param attempt       1 for the first delivery; a worker that re-publishes a failed task increments it
 * @param submittedAt   when the gateway accepted the job
 */
public record Task(int schemaVersion, String jobId, String tenant, int shard, int shards, int start, int end,
                   JobRequest request, int attempt, Instant submittedAt) implements WireMessage {

    public Task {
        Violations v = new Violations();
        WireMessage.checkVersion(v, schemaVersion);
        v.check(JobIds.valid(jobId), "jobId", "must be a job id (UUIDv7), was " + jobId);
        v.check(Tenants.valid(tenant), "tenant", "must match " + Tenants.PATTERN);
        v.check(shards >= 1 && shard >= 0 && shard < shards, "shard", "must be in 0 … shards−1");
        v.check(start >= 0 && start < end, "start", "need 0 <= start < end, was [" + start + ", " + end + ")");
        if (v.check(request != null, "request", "required")) {
            v.check(request.seed() != null, "request.seed", "must be resolved before a task is produced");
            v.check(end <= request.sampleCount(), "end", "must be at most the job's " + request.sampleCount()
                    + " samples, was " + end);
        }
        v.check(attempt >= 1, "attempt", "must be >= 1");
        v.check(submittedAt != null, "submittedAt", "required");
        v.throwIfAny();
    }

    /** The number of samples of this task. */
    public int size() {
        return end - start;
    }

    /** This task for its next delivery attempt. */
    public Task nextAttempt() {
        return new Task(schemaVersion, jobId, tenant, shard, shards, start, end, request, attempt + 1, submittedAt);
    }
}

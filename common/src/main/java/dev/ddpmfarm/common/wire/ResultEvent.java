package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * Results are stored (SPEC §4). On the topic: a shard's results are complete and {@code manifest} is the path of its
 * manifest relative to the job's prefix ({@link ObjectKeys#MANIFEST} or {@link ObjectKeys#shardManifest}). Clients
 * get one per job, with the URL of {@code GET /v1/jobs/{id}/results}.
 *
 * @param manifest where the manifest is
 */
public record ResultEvent(int schemaVersion, String jobId, String tenant, long seq, int shard, Instant at,
                          String manifest) implements JobEvent {

    public ResultEvent {
        Violations v = new Violations();
        JobEvent.checkCommon(v, schemaVersion, jobId, tenant, seq, shard, at);
        v.check(manifest != null && !manifest.isEmpty(), "manifest", "required");
        v.throwIfAny();
    }

    public static ResultEvent of(String jobId, String tenant, int shard, Instant at, String manifest) {
        return new ResultEvent(SCHEMA_VERSION, jobId, tenant, 0, shard, at, manifest);
    }

    @Override
    public ResultEvent withSeq(long newSeq) {
        return new ResultEvent(schemaVersion, jobId, tenant, newSeq, shard, at, manifest);
    }
}

package dev.ddpmfarm.common.wire;

import java.time.Instant;
import java.util.Objects;

/**
 * The job document of SPEC §3: what {@code GET /v1/jobs/{id}} returns.
 *
 * @param id         job id ({@link JobIds})
 * @param tenant     owner
 * @param type       job type
 * @param status     life-cycle state
 * @param request    the request as resolved at submission (defaults filled in, seed set)
 * @param seed       the seed used, also when the client gave none
 * @param shards     the number of tasks the job was split into
 * @param progress   work done
 * @param createdAt  accepted by the gateway
 * @param startedAt  first shard started, or null
 * @param finishedAt reached a terminal status, or null
 * @param error      why it failed, or null
 * @param links      URLs of the job's resources
 */
public record JobDocument(String id, String tenant, JobType type, JobStatus status, JobRequest request, long seed,
                          int shards, Progress progress, Instant createdAt, Instant startedAt, Instant finishedAt,
                          String error, Links links) {

    public JobDocument {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(createdAt, "createdAt");
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1, was " + shards);
        }
    }

    /**
     * The job's URLs.
     *
     * @param self    the document
     * @param events  the WebSocket event stream
     * @param results the result manifest
     */
    public record Links(String self, String events, String results) {
        /** The links of job {@code id} under the API root {@code /v1}. */
        public static Links of(String id) {
            String self = "/v1/jobs/" + id;
            return new Links(self, self + "/events", self + "/results");
        }
    }
}

package dev.ddpmfarm.common.wire;

import java.util.Objects;

/**
 * What the gateway accepted, carried by the job's first event ({@code status queued}) so that the job store can be
 * rebuilt from {@code farm.events.v1} alone.
 *
 * @param request        the resolved request (defaults and seed filled in)
 * @param shards         the number of tasks it was split into
 * @param idempotencyKey the client's {@code Idempotency-Key}, or null
 * @param requestHash    SHA-256 (hex) of the request as the client sent it, before resolution; for idempotency
 */
public record Submission(JobRequest request, int shards, String idempotencyKey, String requestHash) {
    public Submission {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(requestHash, "requestHash");
        if (request.seed() == null) {
            throw new IllegalArgumentException("a submitted request must have its seed resolved");
        }
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1, was " + shards);
        }
    }
}

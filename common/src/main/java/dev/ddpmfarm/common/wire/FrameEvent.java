package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * A checkpoint frame (SPEC §4): PNG grids of x_t and of the model's x̂_0 (paper Eq. 15) at a step. On the topic
 * {@code xt} and {@code x0} are paths relative to the job's prefix ({@link ObjectKeys#frame}); clients get URLs.
 *
 * @param step reverse steps done
 * @param t    the timestep of x_t
 * @param xt   the grid of x_t
 * @param x0   the grid of x̂_0
 */
public record FrameEvent(int schemaVersion, String jobId, String tenant, long seq, int shard, Instant at, int step,
                         int t, String xt, String x0) implements JobEvent {

    public FrameEvent {
        Violations v = new Violations();
        JobEvent.checkCommon(v, schemaVersion, jobId, tenant, seq, shard, at);
        v.check(step >= 0, "step", "must be >= 0");
        v.check(t >= 0, "t", "must be >= 0");
        v.check(xt != null && !xt.isEmpty(), "xt", "required");
        v.check(x0 != null && !x0.isEmpty(), "x0", "required");
        v.throwIfAny();
    }

    public static FrameEvent of(String jobId, String tenant, int shard, Instant at, int step, int t, String xt,
                                String x0) {
        return new FrameEvent(SCHEMA_VERSION, jobId, tenant, 0, shard, at, step, t, xt, x0);
    }

    @Override
    public FrameEvent withSeq(long newSeq) {
        return new FrameEvent(schemaVersion, jobId, tenant, newSeq, shard, at, step, t, xt, x0);
    }

    /** This frame with the image references replaced (paths by URLs). */
    public FrameEvent withImages(String newXt, String newX0) {
        return new FrameEvent(schemaVersion, jobId, tenant, seq, shard, at, step, t, newXt, newX0);
    }
}

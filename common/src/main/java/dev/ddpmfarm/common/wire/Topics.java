package dev.ddpmfarm.common.wire;

import java.time.Duration;
import java.util.List;

/** The Kafka topics of SPEC §5 and how they are created. Every value is JSON with a {@code schemaVersion}. */
public final class Topics {
    /** {@link Task}s, key = job id; a large job is split into shards spread over the partitions. */
    public static final String JOBS = "farm.jobs.v1";
    /** {@link JobEvent}s, key = job id, so a job's events keep their order. */
    public static final String EVENTS = "farm.events.v1";
    /** {@link Control} messages, read by every worker. */
    public static final String CONTROL = "farm.control.v1";
    /** Tasks that spent their retry budget or could not be parsed, with the reason in a header. */
    public static final String DLQ = "farm.jobs.dlq.v1";

    /** The header of a dead-lettered record that says why. */
    public static final String DLQ_REASON_HEADER = "farm.dlq.reason";

    /**
     * How a topic is created.
     *
     * @param name       topic name
     * @param partitions partition count; jobs and events have many so workers and gateways can scale out
     * @param retention  how long records are kept; events are kept long because the gateway rebuilds job state
     *                   from them on restart
     */
    public record Spec(String name, int partitions, Duration retention) {
    }

    public static final List<Spec> ALL = List.of(
            new Spec(JOBS, 12, Duration.ofDays(7)),
            new Spec(EVENTS, 12, Duration.ofDays(30)),
            new Spec(CONTROL, 1, Duration.ofDays(7)),
            new Spec(DLQ, 1, Duration.ofDays(30)));

    private Topics() {
    }
}

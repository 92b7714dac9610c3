package dev.ddpmfarm.common.wire;

/**
 * A value on a Kafka topic (SPEC §5): JSON with a {@code schemaVersion}. A reader rejects versions newer than
 * {@link #SCHEMA_VERSION}, so a message from a newer producer fails loudly instead of being half-understood.
 */
public interface WireMessage {

    /** The version of the messages this code writes. */
    int SCHEMA_VERSION = 1;

    int schemaVersion();

    /** The Kafka key: the job id, so that all messages of a job stay in order on one partition. */
    String jobId();

    /** Checks a schema version read from the wire. */
    static void checkVersion(Violations v, int schemaVersion) {
        v.check(schemaVersion >= 1 && schemaVersion <= SCHEMA_VERSION, "schemaVersion",
                "unsupported schema version " + schemaVersion + "; this build reads 1 … " + SCHEMA_VERSION);
    }
}

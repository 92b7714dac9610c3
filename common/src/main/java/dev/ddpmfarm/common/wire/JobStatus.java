package dev.ddpmfarm.common.wire;

/** The life cycle of a job: queued → running → succeeded | failed | cancelled (SPEC §3). */
public enum JobStatus implements WireEnum {
    QUEUED("queued"),
    RUNNING("running"),
    SUCCEEDED("succeeded"),
    FAILED("failed"),
    CANCELLED("cancelled");

    private final String wireName;

    JobStatus(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }

    /** True for the states a job never leaves. */
    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}

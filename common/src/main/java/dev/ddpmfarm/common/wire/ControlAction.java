package dev.ddpmfarm.common.wire;

/** What a {@link Control} message asks every worker to do. Append-only. */
public enum ControlAction implements WireEnum {
    /** Stop the job: drop its samples from the batch within one step, skip its queued tasks; keep what is stored. */
    CANCEL("cancel");

    private final String wireName;

    ControlAction(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}

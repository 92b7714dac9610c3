package dev.ddpmfarm.common.wire;

import java.time.Instant;

/**
 * A value of {@code farm.control.v1} (SPEC §5), read by every worker.
 *
 * @param action what to do
 * @param jobId  the job it applies to
 * @param tenant its owner
 * @param at     when the gateway issued it
 */
public record Control(int schemaVersion, ControlAction action, String jobId, String tenant, Instant at)
        implements WireMessage {

    public Control {
        Violations v = new Violations();
        WireMessage.checkVersion(v, schemaVersion);
        v.check(action != null, "action", "required; one of " + WireEnum.names(ControlAction.class));
        v.check(JobIds.valid(jobId), "jobId", "must be a job id (UUIDv7), was " + jobId);
        v.check(Tenants.valid(tenant), "tenant", "must match " + Tenants.PATTERN);
        v.check(at != null, "at", "required");
        v.throwIfAny();
    }

    public static Control cancel(String jobId, String tenant, Instant at) {
        return new Control(SCHEMA_VERSION, ControlAction.CANCEL, jobId, tenant, at);
    }
}

package dev.ddpmfarm.worker.model;

import java.util.function.Supplier;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs a training pass inside a thread-local ND4J workspace. Every intermediate array of the pass
 * lands in one block that is reused on the next call: without it each op allocates fresh native memory that only
 * the garbage collector frees, and a pass at batch 256 grew the process past 24 GB and spent most of its time in
 * page faults. Whatever must outlive the pass is detached by the caller.
 */
public final class Workspaces {
    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            .overallocationLimit(0.1)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private Workspaces() {
    }

    /** Runs {@code pass} in the workspace {@code id}; arrays it allocates are valid until the next pass. */
    public static <T> T run(String id, Supplier<T> pass) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, id)) {
            return pass.get();
        }
    }
}

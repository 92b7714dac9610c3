package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.worker.model.Safetensors;
import dev.ddpmfarm.worker.testing.Tasks;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CheckpointTest {
    private static final int[] SHAPE = {1, 2, 2};

    @Test
    @DisplayName("a checkpoint keeps the draws and the samples kept below minConfidence, so a resumed task counts them")
    void keepsTheRedrawCounts() throws IOException {
        Task task = Tasks.minConfidence(3, 5, 0);
        Checkpoint saved = new Checkpoint(task.jobId(), 0, 0, 5, new int[] {5, 2, 0}, new int[] {0, 3, 8}, 1,
                new float[12]);
        Checkpoint read = Checkpoint.decode(saved.encode(SHAPE), "state");
        assertArrayEquals(saved.draws(), read.draws());
        assertEquals(1, read.unconfident());

        TaskRun run = TaskRun.start(task, null, 0, GaussianDiffusion.of(BetaSchedule.LINEAR, 1000), 4, read);
        assertArrayEquals(new int[] {11, 1}, run.redraws(), "redrawn = the sum of the draws; kept below: as saved");

        Map<String, String> older = Map.of("jobId", task.jobId(), "shard", "0", "start", "0", "steps", "5",
                "positions", "5,2,0", "draws", "0,3,8");
        byte[] olderBytes = Safetensors.encode(Map.of("x", new Safetensors.Tensor(new long[] {3, 1, 2, 2},
                new float[12])), older);
        assertEquals(0, Checkpoint.decode(olderBytes, "state").unconfident(), "checkpoints from before the count");
    }
}

package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.WireMessage;
import dev.ddpmfarm.worker.model.Safetensors;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CheckpointTest {
    private static final int[] SHAPE = {1, 2, 2};

    @Test
    @DisplayName("a checkpoint keeps the draws and the samples kept below minConfidence, so a resumed task counts them")
    void keepsTheRedrawCounts() throws IOException {
        GenerateRequest request = new GenerateRequest("tiny", 3, Sampler.DDIM, 5, 0.0, VarianceType.BETA, 1L, 2,
                1.0, 0, List.of(OutputFormat.NPY), 5, null, null, 0.9);
        Task task = new Task(WireMessage.SCHEMA_VERSION, JobIds.next(Instant.now(), new Random(1)), "acme", 0, 1, 0, 3,
                request, 1, Instant.now());
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

package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.wire.Dataset;
import dev.ddpmfarm.common.wire.InputSpec;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.ProgressiveRequest;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.sampling.AnalyticDenoiser;
import dev.ddpmfarm.worker.testing.Tasks;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProgressiveRunTest {
    private static final GaussianDiffusion PROCESS = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);
    private static final int[] SHAPE = {1, 4, 4};
    private static final float[][] X0 = {
        {-1f, -0.8f, -0.6f, -0.4f, -0.2f, 0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f, 0.5f, -0.5f, 0.25f, -0.25f, 0f},
        {0.9f, 0.1f, -0.3f, 0.7f, -0.9f, 0.3f, 0f, -0.1f, 0.6f, -0.6f, 0.2f, 0.4f, -0.4f, 1f, -1f, 0.05f}};
    private static final Task TASK = Tasks.whole(JobIds.next(Instant.now(), new Random(1)), new ProgressiveRequest("analytic",
            new InputSpec(Dataset.FASHION_MNIST_TEST, List.of(0, 1), null, null), List.of(40, 7, 0), 2, 3L, 5));

    @Test
    @DisplayName("x_t and every reconstruction of every (image, t) draw their noise from keys of their own")
    void noiseKeysAreDistinct() {
        int images = 4;
        int nt = 6;
        int perT = 3;
        Set<Long> keys = new HashSet<>();
        for (int i = 0; i < images; i++) {
            for (int j = 0; j < nt; j++) {
                for (int use = 0; use <= perT; use++) {
                    assertTrue(keys.add(ProgressiveRun.noiseKey(i, j, nt, perT, use)),
                            "image " + i + ", t entry " + j + ", use " + use + " repeats a key");
                }
            }
        }
    }

    @Test
    @DisplayName("a run resumed from its checkpoint goes on where it stood and stores the files of an uninterrupted run")
    void resumesFromItsCheckpoint() {
        ProgressiveRun whole = run(null);
        while (!whole.done()) {
            whole.step();
        }
        ProgressiveRun interrupted = run(null);
        for (int k = 0; k < 20; k++) {
            interrupted.step();
        }
        byte[] checkpoint = interrupted.checkpoint();
        ProgressiveRun.State state = Wire.fromBytes(checkpoint, ProgressiveRun.State.class);
        assertFalse(state.finished().isEmpty(), "the t = 7 reconstructions have finished");
        assertFalse(state.running().isEmpty(), "the t = 40 reconstructions are under way");

        ProgressiveRun resumed = run(checkpoint);
        assertEquals(interrupted.workDone(), resumed.resumedWork());
        while (!resumed.done()) {
            resumed.step();
        }
        assertEquals(whole.work(), resumed.workDone());
        List<ImageRun.Output> expected = whole.outputs();
        List<ImageRun.Output> actual = resumed.outputs();
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).path(), actual.get(i).path());
            assertArrayEquals(expected.get(i).data(), actual.get(i).data(), expected.get(i).path());
        }
    }

    private static ProgressiveRun run(byte[] checkpoint) {
        AnalyticDenoiser denoiser = AnalyticDenoiser.gaussian(PROCESS, SHAPE, new double[16], 0.5);
        return new ProgressiveRun(TASK, new TopicPartition("jobs", 0), 0, denoiser, PROCESS, X0, 3, checkpoint);
    }
}

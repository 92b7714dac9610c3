package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.store.InMemoryObjectStore;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.testing.Tasks;
import dev.ddpmfarm.worker.testing.TinyModel;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ShardStoreTest {
    private static final int[] SHAPE = {1, 2, 2};
    private static final GaussianDiffusion PROCESS = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);

    private final InMemoryObjectStore objects = new InMemoryObjectStore();

    /** A run of {@code task} whose samples have taken every step (as a checkpoint at the end would leave them). */
    private static TaskRun finished(Task task, float value) {
        int n = task.size();
        float[] x = new float[n * 4];
        Arrays.fill(x, value);
        Checkpoint end = new Checkpoint(task.jobId(), task.shard(), task.start(), 2, new int[] {2, 2}, new int[n], 0,
                x);
        TaskRun run = TaskRun.start(task, null, 0, PROCESS, 4, end);
        assertTrue(run.done());
        return run;
    }

    private byte[] stored(Task task, String path) {
        return objects.get(ObjectKeys.key(task.tenant(), task.jobId(), path)).orElseThrow();
    }

    @Test
    @DisplayName("a second run of a stored task (a redelivery after a lost partition) leaves the first run's status "
            + "and manifest and stores nothing, so the job's joined manifest keeps listing the stored sizes")
    void duplicateRunKeepsTheJoinedManifestTrue() {
        GenerateRequest request = new GenerateRequest(TinyModel.NAME, 4, Sampler.DDIM, 2, 0.0, VarianceType.BETA, 1L,
                null, null, null, null, 0, List.of(OutputFormat.NPY, OutputFormat.PNG), 5, null, null, null);
        List<Task> shards = Tasks.shards(JobIds.next(Instant.now(), new Random(3)), request, 2);
        ShardStore first = new ShardStore(objects, "worker-1", Runnable::run);
        shards.forEach(task -> first.saveResults(finished(task, 0.25f), SHAPE, null));
        Task task = shards.get(0);
        byte[] status = stored(task, ObjectKeys.shardDir(0) + ObjectKeys.STATUS);
        byte[] samples = stored(task, ObjectKeys.shardDir(0) + ObjectKeys.SAMPLES_NPY);
        byte[] manifest = stored(task, ObjectKeys.shardManifest(0));

        // other values than the first run's, only to see that the second run stores nothing (real runs agree)
        ShardStore second = new ShardStore(objects, "another-worker-with-a-longer-name", Runnable::run);
        assertEquals(ObjectKeys.shardManifest(0), second.saveResults(finished(task.nextAttempt(), -0.5f), SHAPE, null));
        second.saveCancelled(finished(task.nextAttempt(), -0.5f), SHAPE);

        assertArrayEquals(status, stored(task, ObjectKeys.shardDir(0) + ObjectKeys.STATUS));
        assertArrayEquals(samples, stored(task, ObjectKeys.shardDir(0) + ObjectKeys.SAMPLES_NPY));
        assertArrayEquals(manifest, stored(task, ObjectKeys.shardManifest(0)), "nor a cancelled run's partial manifest");
        Manifest joined = Wire.fromBytes(stored(task, ObjectKeys.MANIFEST), Manifest.class);
        assertTrue(joined.files().stream().anyMatch(f -> f.path().endsWith(ObjectKeys.STATUS)));
        for (Manifest.File f : joined.files()) {
            assertEquals(f.size(), objects.stat(ObjectKeys.key(task.tenant(), task.jobId(), f.path())).orElseThrow()
                    .size(), f.path());
        }
    }
}

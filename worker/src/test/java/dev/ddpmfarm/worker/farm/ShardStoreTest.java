package dev.ddpmfarm.worker.farm;

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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ShardStoreTest {
    private static final int[] SHAPE = {1, 2, 2};
    private static final GaussianDiffusion PROCESS = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);

    private final InMemoryObjectStore objects = new InMemoryObjectStore();

    /** A run of {@code task} whose samples have taken every step (as a checkpoint at the end would leave them). */
    private static TaskRun finished(Task task) {
        int n = task.size();
        float[] x = new float[n * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) / 7f - 0.5f;
        }
        Checkpoint end = new Checkpoint(task.jobId(), task.shard(), task.start(), 2, new int[] {2, 2}, new int[n], 0,
                x);
        TaskRun run = TaskRun.start(task, null, 0, PROCESS, 4, end);
        assertTrue(run.done());
        return run;
    }

    private String stored(Task task, String path) {
        return new String(objects.get(ObjectKeys.key(task.tenant(), task.jobId(), path)).orElseThrow(),
                StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("a second run of a stored task (a redelivery after a lost partition) leaves the first run's status "
            + "and manifest, so the job's joined manifest keeps listing the stored sizes")
    void duplicateRunKeepsTheJoinedManifestTrue() {
        GenerateRequest request = new GenerateRequest(TinyModel.NAME, 4, Sampler.DDIM, 2, 0.0, VarianceType.BETA, 1L,
                null, null, null, null, 0, List.of(OutputFormat.NPY, OutputFormat.PNG), 5, null, null, null);
        List<Task> shards = Tasks.shards(JobIds.next(Instant.now(), new Random(3)), request, 2);
        ShardStore first = new ShardStore(objects, "worker-1", Runnable::run);
        shards.forEach(task -> first.saveResults(finished(task), SHAPE, null));
        Task task = shards.get(0);
        String status = stored(task, ObjectKeys.shardDir(0) + ObjectKeys.STATUS);

        new ShardStore(objects, "another-worker-with-a-longer-name", Runnable::run)
                .saveResults(finished(task.nextAttempt()), SHAPE, null);

        assertEquals(status, stored(task, ObjectKeys.shardDir(0) + ObjectKeys.STATUS));
        Manifest joined = Wire.fromJson(stored(task, ObjectKeys.MANIFEST), Manifest.class);
        assertTrue(joined.files().stream().anyMatch(f -> f.path().endsWith(ObjectKeys.STATUS)));
        for (Manifest.File f : joined.files()) {
            assertEquals(f.size(), objects.stat(ObjectKeys.key(task.tenant(), task.jobId(), f.path())).orElseThrow()
                    .size(), f.path());
        }
    }
}

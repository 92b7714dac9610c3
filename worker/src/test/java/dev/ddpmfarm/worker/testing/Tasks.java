package dev.ddpmfarm.worker.testing;

import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobRequest;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.WireMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The tasks of a job as the gateway would cut them (first attempt), for the worker's tests. */
public final class Tasks {
    public static final String TENANT = "acme";
    private static final Random IDS = new Random(11);

    private Tasks() {
    }

    /** The job's samples cut into {@code shards} tasks of (nearly) equal size. */
    public static List<Task> shards(String jobId, JobRequest request, int shards) {
        int n = request.sampleCount();
        List<Task> tasks = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            tasks.add(new Task(WireMessage.SCHEMA_VERSION, jobId, TENANT, s, shards, s * n / shards,
                    (s + 1) * n / shards, request, 1, Instant.now()));
        }
        return tasks;
    }

    /** The whole job as one task. */
    public static Task whole(String jobId, JobRequest request) {
        return shards(jobId, request, 1).get(0);
    }

    /**
     * A new one-task job of {@code count} DDIM samples of class 2 that keeps only samples classified as their class
     * with confidence 0.9, storing a frame of x_t every {@code checkpointEvery} steps (0: at the last step only).
     */
    public static Task minConfidence(int count, int steps, int checkpointEvery) {
        GenerateRequest request = new GenerateRequest(TinyModel.NAME, count, Sampler.DDIM, steps, 0.0,
                VarianceType.BETA, 1L, 2, 1.0, null, null, checkpointEvery, List.of(OutputFormat.NPY), 5, null, null, 0.9);
        return whole(JobIds.next(Instant.now(), IDS), request);
    }
}

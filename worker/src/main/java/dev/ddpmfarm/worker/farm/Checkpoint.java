package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.worker.model.Safetensors;
import dev.ddpmfarm.worker.sampling.SampleState;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where every sample of a task stood at one moment: the {@code checkpoints/…} object of SPEC §6, from which a
 * redelivered task resumes instead of starting again from x_T. One safetensors object, written whole or not at all:
 * tensor {@code x} {@code [n, C, H, W]} holds each sample's current x_t, the metadata its position (reverse steps
 * taken), its draw (how often {@code minConfidence} started it again), how many samples were kept below the
 * confidence, and which task it belongs to.
 *
 * @param jobId       the job
 * @param shard       the task
 * @param start       the task's first sample index
 * @param steps       reverse steps per sample
 * @param positions   steps taken by each sample of the task, in index order
 * @param draws       each sample's draw, 0 unless it was drawn again
 * @param unconfident finished samples kept below {@code minConfidence} after their last draw
 * @param x           each sample's x after those steps, {@code n · dims} values
 */
record Checkpoint(String jobId, int shard, int start, int steps, int[] positions, int[] draws, int unconfident,
                  float[] x) {

    /** The object key of task {@code task}'s checkpoint. */
    static String key(Task task) {
        return ObjectKeys.key(task.tenant(), task.jobId(), ObjectKeys.checkpoints(task.shard()) + "state.safetensors");
    }

    /** A checkpoint of the samples' current states, {@code states} in index order. */
    static Checkpoint of(Task task, int steps, List<SampleState> states, int[] draws, int unconfident,
                         int[] imageShape) {
        int dims = Arrays.stream(imageShape).reduce(1, (a, b) -> a * b);
        int[] positions = new int[states.size()];
        float[] x = new float[states.size() * dims];
        for (int i = 0; i < states.size(); i++) {
            positions[i] = states.get(i).position();
            System.arraycopy(states.get(i).x(), 0, x, i * dims, dims);
        }
        return new Checkpoint(task.jobId(), task.shard(), task.start(), steps, positions, draws.clone(), unconfident,
                x);
    }

    /** Whether this checkpoint belongs to {@code task} run for {@code steps} steps. */
    boolean matches(Task task, int steps) {
        return jobId.equals(task.jobId()) && shard == task.shard() && start == task.start()
                && positions.length == task.size() && this.steps == steps;
    }

    /** Steps taken by all samples together. */
    long stepsTaken() {
        return Arrays.stream(positions).asLongStream().sum();
    }

    byte[] encode(int[] imageShape) {
        long[] shape = new long[imageShape.length + 1];
        shape[0] = positions.length;
        for (int i = 0; i < imageShape.length; i++) {
            shape[i + 1] = imageShape[i];
        }
        return Safetensors.encode(Map.of("x", new Safetensors.Tensor(shape, x)), Map.of(
                "jobId", jobId, "shard", Integer.toString(shard), "start", Integer.toString(start),
                "steps", Integer.toString(steps),
                "positions", join(positions), "draws", join(draws), "unconfident", Integer.toString(unconfident)));
    }

    private static String join(int[] values) {
        return Arrays.stream(values).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static int[] split(String values) {
        return Arrays.stream(values.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    static Checkpoint decode(byte[] bytes, String name) throws IOException {
        Map<String, String> meta = Safetensors.metadata(bytes, name);
        Safetensors.Tensor x = Safetensors.decode(bytes, name).get("x");
        try {
            int[] positions = split(meta.get("positions"));
            // checkpoints of workers from before minConfidence have no draws: every sample is at its first; those
            // from before the count of unconfident samples have none
            int[] draws = meta.containsKey("draws") ? split(meta.get("draws")) : new int[positions.length];
            int unconfident = meta.containsKey("unconfident") ? Integer.parseInt(meta.get("unconfident")) : 0;
            if (x == null || x.shape()[0] != positions.length || draws.length != positions.length) {
                throw new IOException(name + ": tensor x or the draws do not match the " + positions.length
                        + " positions");
            }
            return new Checkpoint(meta.get("jobId"), Integer.parseInt(meta.get("shard")),
                    Integer.parseInt(meta.get("start")), Integer.parseInt(meta.get("steps")), positions, draws,
                    unconfident, x.values());
        } catch (NullPointerException | NumberFormatException e) {
            throw new IOException(name + ": incomplete checkpoint metadata " + meta.keySet(), e);
        }
    }
}

package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.worker.model.Safetensors;
import dev.ddpmfarm.worker.sampling.SampleState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Where every sample of a task stood at one moment: the {@code checkpoints/…} object of SPEC §6, from which a
 * redelivered task resumes instead of starting again from x_T. One safetensors object, written whole or not at all:
 * tensor {@code x} {@code [n, C, H, W]} holds each sample's current x_t, the metadata its position (reverse steps
 * taken), its draw (how often {@code minConfidence} started it again), how many samples were kept below the
 * confidence, and which task it belongs to. Frames the preview samples had only partly reached are kept too (tensors
 * {@code frame.<step>.xt} and {@code .x0} with the rows gathered, listed in the metadata), so that the samples still
 * to take those steps complete them after a resume.
 *
 * @param jobId       the job
 * @param shard       the task
 * @param start       the task's first sample index
 * @param steps       reverse steps per sample
 * @param positions   steps taken by each sample of the task, in index order
 * @param draws       each sample's draw, 0 unless it was drawn again
 * @param unconfident finished samples kept below {@code minConfidence} after their last draw
 * @param x           each sample's x after those steps, {@code n · dims} values
 * @param frames      the frames being gathered, rows not yet reached null
 */
record Checkpoint(String jobId, int shard, int start, int steps, int[] positions, int[] draws, int unconfident,
                  float[] x, List<TaskRun.Frame> frames) {

    private static final String FRAME = "frame.";

    /** The object key of task {@code task}'s checkpoint. */
    static String key(Task task) {
        return ObjectKeys.key(task.tenant(), task.jobId(), ObjectKeys.checkpoints(task.shard()) + "state.safetensors");
    }

    /** A checkpoint of the samples' current states, {@code states} in index order. */
    static Checkpoint of(Task task, int steps, List<SampleState> states, int[] draws, int unconfident,
                         List<TaskRun.Frame> frames, int[] imageShape) {
        int dims = Arrays.stream(imageShape).reduce(1, (a, b) -> a * b);
        int[] positions = new int[states.size()];
        float[] x = new float[states.size() * dims];
        for (int i = 0; i < states.size(); i++) {
            positions[i] = states.get(i).position();
            System.arraycopy(states.get(i).x(), 0, x, i * dims, dims);
        }
        return new Checkpoint(task.jobId(), task.shard(), task.start(), steps, positions, draws.clone(), unconfident,
                x, List.copyOf(frames));
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
        Map<String, Safetensors.Tensor> tensors = new HashMap<>();
        Map<String, String> meta = new HashMap<>(Map.of(
                "jobId", jobId, "shard", Integer.toString(shard), "start", Integer.toString(start),
                "steps", Integer.toString(steps),
                "positions", join(positions), "draws", join(draws), "unconfident", Integer.toString(unconfident)));
        tensors.put("x", tensor(positions.length, imageShape, x));
        for (TaskRun.Frame f : frames) {
            int[] rows = IntStream.range(0, f.xt().length).filter(i -> f.xt()[i] != null).toArray();
            String name = FRAME + f.step();
            meta.put(name + ".rows", join(rows));
            meta.put(name + ".t", Integer.toString(f.t()));
            tensors.put(name + ".xt", tensor(rows.length, imageShape, concat(f.xt(), rows)));
            tensors.put(name + ".x0", tensor(rows.length, imageShape, concat(f.x0(), rows)));
        }
        return Safetensors.encode(tensors, meta);
    }

    private static Safetensors.Tensor tensor(int n, int[] imageShape, float[] values) {
        long[] shape = new long[imageShape.length + 1];
        shape[0] = n;
        for (int i = 0; i < imageShape.length; i++) {
            shape[i + 1] = imageShape[i];
        }
        return new Safetensors.Tensor(shape, values);
    }

    private static float[] concat(float[][] rows, int[] present) {
        int dims = rows[present[0]].length;
        float[] out = new float[present.length * dims];
        for (int k = 0; k < present.length; k++) {
            System.arraycopy(rows[present[k]], 0, out, k * dims, dims);
        }
        return out;
    }

    /** The partial frames of {@code meta} and {@code tensors}, with rows for the task's first preview samples. */
    private static List<TaskRun.Frame> frames(Map<String, String> meta, Map<String, Safetensors.Tensor> tensors,
                                              int previewCount) {
        List<TaskRun.Frame> frames = new ArrayList<>();
        for (String key : meta.keySet()) {
            if (!key.startsWith(FRAME) || !key.endsWith(".rows")) {
                continue;
            }
            String name = key.substring(0, key.length() - ".rows".length());
            int[] rows = split(meta.get(key));
            Safetensors.Tensor xtRows = tensors.get(name + ".xt");
            Safetensors.Tensor x0Rows = tensors.get(name + ".x0");
            if (xtRows.shape()[0] != rows.length || x0Rows.shape()[0] != rows.length) {
                throw new IllegalArgumentException(name + " does not have the rows " + meta.get(key));
            }
            float[] xt = xtRows.values();
            float[] x0 = x0Rows.values();
            int dims = xt.length / rows.length;
            TaskRun.Frame f = new TaskRun.Frame(Integer.parseInt(name.substring(FRAME.length())),
                    Integer.parseInt(meta.get(name + ".t")), new float[previewCount][], new float[previewCount][]);
            for (int k = 0; k < rows.length; k++) {
                f.xt()[rows[k]] = Arrays.copyOfRange(xt, k * dims, (k + 1) * dims);
                f.x0()[rows[k]] = Arrays.copyOfRange(x0, k * dims, (k + 1) * dims);
            }
            frames.add(f);
        }
        return frames;
    }

    private static String join(int[] values) {
        return Arrays.stream(values).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static int[] split(String values) {
        return Arrays.stream(values.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    static Checkpoint decode(byte[] bytes, String name) throws IOException {
        Map<String, String> meta = Safetensors.metadata(bytes, name);
        Map<String, Safetensors.Tensor> tensors = Safetensors.decode(bytes, name);
        Safetensors.Tensor x = tensors.get("x");
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
                    unconfident, x.values(), frames(meta, tensors, Math.min(TaskRun.PREVIEW, positions.length)));
        } catch (NullPointerException | IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            throw new IOException(name + ": incomplete checkpoint metadata " + meta.keySet(), e);
        }
    }
}

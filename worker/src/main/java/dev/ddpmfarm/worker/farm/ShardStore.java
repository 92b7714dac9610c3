package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.eval.Classifier;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.output.Grid;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.sampling.SampleState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a task stores (SPEC §6), all under its job's prefix with deterministic keys, so a redelivered task overwrites:
 * the request when it starts, checkpoints, frames, the samples, and last the manifest, which lists only objects
 * already stored whole.
 * <p>
 * A job of one task stores its whole-job files ({@link DatasetFiles}), {@code status.json} and {@code manifest.json}
 * at the job's prefix. A task of a sharded job stores its part, {@code status.json} and its manifest under
 * {@code shards/{shard:05d}/}, and the last to finish joins the parts at the job's prefix; sample PNGs always go to
 * {@code samples/{index:06d}.png} by global index.
 */
final class ShardStore {
    /** The most samples drawn in a result grid. */
    static final int GRID_MAX = 256;

    private final ObjectStore objects;
    private final String workerId;
    private final Executor uploads;
    /** Held by the join of a sharded job (see {@link #joinShards}). */
    private final Object joinLock = new Object();

    /**
     * @param uploads runs the puts of one task's sample PNGs concurrently (object stores answer each put with a
     *                round trip; many in flight keep the link busy)
     */
    ShardStore(ObjectStore objects, String workerId, Executor uploads) {
        this.objects = objects;
        this.workerId = workerId;
        this.uploads = uploads;
    }

    /**
     * {@code status.json}: what this worker did with a task; {@code resumedWork} is what a checkpoint saved,
     * {@code redrawn} the samples drawn again for minConfidence and {@code belowConfidence} those kept below it.
     */
    record ShardStatus(String jobId, int shard, int shards, int start, int end, String status, int attempt,
                       String worker, long resumedWork, int redrawn, int belowConfidence, Instant finishedAt) {
    }

    /**
     * {@code request.json}: the job's request as the gateway resolved it (defaults and seed filled in), so the stored
     * results say how they were made; every task of the job stores the same bytes.
     */
    void saveRequest(Task task) {
        objects.put(key(task, ObjectKeys.REQUEST), Wire.toBytes(task.request()), "application/json");
    }

    /** The manifest path of a finished task, relative to the job's prefix. */
    static String manifestPath(Task task) {
        return task.shards() == 1 ? ObjectKeys.MANIFEST : ObjectKeys.shardManifest(task.shard());
    }

    /** Whether the task's results are already stored (a redelivery after the results but before the commit). */
    boolean completed(Task task) {
        return objects.stat(key(task, manifestPath(task))).isPresent();
    }

    Optional<Checkpoint> checkpoint(Task task) throws IOException {
        Optional<byte[]> bytes = objects.get(Checkpoint.key(task));
        return bytes.isEmpty() ? Optional.empty() : Optional.of(Checkpoint.decode(bytes.get(), Checkpoint.key(task)));
    }

    void saveCheckpoint(Task task, Checkpoint checkpoint, int[] imageShape) {
        objects.put(Checkpoint.key(task), checkpoint.encode(imageShape), Npy.MEDIA_TYPE);
    }

    /** Removes the task's checkpoints, whatever kind of run wrote them. */
    void deleteCheckpoint(Task task) {
        objects.delete(Checkpoint.key(task));
        objects.delete(imageCheckpointKey(task));
    }

    /** The saved state of an image job ({@link ImageRun#checkpoint}), if any. */
    Optional<byte[]> imageCheckpoint(Task task) {
        return objects.get(imageCheckpointKey(task));
    }

    void saveImageCheckpoint(Task task, byte[] state) {
        objects.put(imageCheckpointKey(task), state, "application/json");
    }

    private static String imageCheckpointKey(Task task) {
        return key(task, ObjectKeys.checkpoints(task.shard()) + "state.json");
    }

    /** Stores the frame's x_t and x̂_0 grids; returns their paths relative to the job's prefix. */
    String[] saveFrame(Task task, TaskRun.Frame frame, int[] imageShape) {
        String xt = ObjectKeys.frame(frame.step(), false);
        String x0 = ObjectKeys.frame(frame.step(), true);
        objects.put(key(task, xt), Png.encode(grid(frame.xt(), imageShape)), Png.MEDIA_TYPE);
        objects.put(key(task, x0), Png.encode(grid(frame.x0(), imageShape)), Png.MEDIA_TYPE);
        return new String[] {xt, x0};
    }

    /**
     * Stores the results of a finished task: its sample PNGs, the whole-job files ({@link DatasetFiles}) or, for a
     * task of a sharded job, its part of them, {@code status.json}, then the manifest. The task that finds every shard
     * of its job finished then joins them ({@link #joinShards}).
     *
     * @return the manifest's path relative to the job's prefix
     */
    String saveResults(TaskRun run, int[] imageShape, Classifier classifier) {
        Task task = run.task();
        if (completed(task)) {
            joinShards(task);
            return manifestPath(task);
        }
        List<SampleState> samples = run.states();
        List<Uint8Image> images = samples.stream().map(s -> image(s.x(), imageShape)).toList();
        List<OutputFormat> outputs = run.request().outputs();
        List<Manifest.File> files = new ArrayList<>();
        if (outputs.contains(OutputFormat.PNG)) {
            files.addAll(savePngs(task, samples, images));
        }
        String dir = task.shards() == 1 ? "" : ObjectKeys.shardDir(task.shard());
        if (DatasetFiles.any(outputs)) {
            DatasetFiles.Part part = new DatasetFiles.Part(images, rows(run, images, classifier));
            Consumer<ImageRun.Output> store = putInto(task, files);
            if (task.shards() == 1) {
                DatasetFiles.encode(part, outputs, GRID_MAX, store);
            } else {
                part.store(dir).forEach(store);
            }
        }
        String manifest = finish(task, dir, files, run.resumedSteps(), run.redraws());
        joinShards(task);
        return manifest;
    }

    /**
     * The label rows of a task's samples when the job's outputs need labels or it asked for classes: the requested
     * class, and with the model's classifier the class it sees and its confidence.
     */
    private static List<DatasetFiles.Row> rows(TaskRun run, List<Uint8Image> images, Classifier classifier) {
        List<SampleState> states = run.states();
        boolean requested = states.get(0).classLabel() != Denoiser.NO_CLASS;
        if (!requested && !DatasetFiles.labelled(run.request().outputs())) {
            return List.of();
        }
        int n = images.size();
        INDArray p = null;
        if (classifier != null && DatasetFiles.labelled(run.request().outputs())) {
            p = classifier.probabilities(images);
        }
        List<DatasetFiles.Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SampleState s = states.get(i);
            Integer predicted = p == null ? null : p.getRow(i).argMax().getInt(0);
            rows.add(new DatasetFiles.Row(s.index(), s.seed(), requested ? s.classLabel() : null, predicted,
                    predicted == null ? null : p.getDouble(i, predicted)));
        }
        return rows;
    }

    /**
     * Once every shard of a sharded job is stored, writes the whole-job files from the shards' parts and the job's
     * {@code manifest.json} (every shard's files and the joined ones), so the job downloads as one dataset.
     * A join holds the whole dataset (3–4 GB for a million images), so this worker makes one at a time; a task that
     * waited for another's join of the same job finds the job's manifest (written last) and leaves it. Tasks of two
     * workers that finish together may both join: the keys and bytes are the same, so the second overwrites.
     * Idempotent; a redelivered task whose results were already stored calls it again. A task returns only after the
     * join it made or waited for, so no shard's result is reported before the job's manifest is stored.
     */
    void joinShards(Task task) {
        if (task.shards() == 1) {
            return;
        }
        String prefix = ObjectKeys.jobPrefix(task.tenant(), task.jobId());
        Set<String> keys = objects.list(prefix + "shards/").stream().map(ObjectStore.ObjectInfo::key)
                .collect(Collectors.toSet());
        for (int s = 0; s < task.shards(); s++) {
            // status.json is stored before the manifest, and only by a task that succeeded (not a cancelled one)
            if (!keys.contains(prefix + ObjectKeys.shardDir(s) + ObjectKeys.STATUS)
                    || !keys.contains(prefix + ObjectKeys.shardManifest(s))) {
                return;
            }
        }
        synchronized (joinLock) {
            if (objects.stat(prefix + ObjectKeys.MANIFEST).isEmpty()) {
                join(task, prefix, keys);
            }
        }
    }

    private void join(Task task, String prefix, Set<String> keys) {
        GenerateRequest request = (GenerateRequest) task.request();
        List<Manifest.File> files = new ArrayList<>();
        List<DatasetFiles.Part> parts = new ArrayList<>();
        try {
            for (int s = 0; s < task.shards(); s++) {
                files.addAll(Wire.fromBytes(required(prefix + ObjectKeys.shardManifest(s)), Manifest.class).files());
                if (DatasetFiles.any(request.outputs())) {
                    String csv = prefix + ObjectKeys.shardDir(s) + ObjectKeys.LABELS_CSV;
                    parts.add(DatasetFiles.Part.read(required(prefix + ObjectKeys.shardDir(s) + ObjectKeys.SAMPLES_NPY),
                            keys.contains(csv) ? required(csv) : null));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("joining the shards of job " + task.jobId() + ": " + e.getMessage(), e);
        }
        if (!parts.isEmpty()) {
            DatasetFiles.Part all = DatasetFiles.Part.concat(parts);
            DatasetFiles.encode(all, request.outputs(), GRID_MAX, putInto(task, files));
        }
        saveManifest(task, ObjectKeys.MANIFEST, files);
    }

    private byte[] required(String key) {
        return objects.get(key).orElseThrow(() -> new IllegalStateException("missing " + key));
    }

    /** Stores an image job's result files, {@code status.json}, then the manifest; returns the manifest's path. */
    String saveOutputs(Task task, List<ImageRun.Output> outputs, long resumedWork) {
        if (completed(task)) {
            return manifestPath(task);
        }
        List<CompletableFuture<Manifest.File>> puts = outputs.stream().map(o -> CompletableFuture.supplyAsync(
                () -> put(task, o.path(), o.data(), o.mediaType()), uploads)).toList();
        return finish(task, "", join(puts), resumedWork, new int[2]);
    }

    /**
     * Stores {@code status.json} and the manifest, unless another run of the task stored them first (a redelivery
     * that ran while this run still did, after a partition was lost; {@link #saveResults} and {@link #saveOutputs}
     * check before they store anything, this again after the uploads): its files are the same bytes as this run's,
     * but its {@code status.json} (another worker, attempt and time) may differ in size from this run's, and the
     * job's joined manifest may already list it. Two runs that finish within one upload of each other can still
     * both write: {@link ObjectStore} has no create-only put.
     */
    private String finish(Task task, String dir, List<Manifest.File> files, long resumedWork, int[] redraws) {
        if (completed(task)) {
            return manifestPath(task);
        }
        List<Manifest.File> all = new ArrayList<>(files);
        all.add(put(task, dir + ObjectKeys.STATUS, Wire.toBytes(new ShardStatus(task.jobId(), task.shard(),
                task.shards(), task.start(), task.end(), "succeeded", task.attempt(), workerId, resumedWork,
                redraws[0], redraws[1], Instant.now())), "application/json"));
        return saveManifest(task, manifestPath(task), all);
    }

    /**
     * Stores the finished samples of a cancelled task (finished samples are kept) and their shard manifest, unless
     * another run stored the task's whole results.
     */
    void saveCancelled(TaskRun run, int[] imageShape) {
        List<SampleState> done = run.finishedStates();
        if (!done.isEmpty() && !completed(run.task())) {
            List<Uint8Image> images = done.stream().map(s -> image(s.x(), imageShape)).toList();
            saveManifest(run.task(), ObjectKeys.shardManifest(run.task().shard()),
                    savePngs(run.task(), done, images));
        }
    }

    private List<Manifest.File> savePngs(Task task, List<SampleState> samples, List<Uint8Image> images) {
        List<CompletableFuture<Manifest.File>> puts = new ArrayList<>(samples.size());
        for (int i = 0; i < samples.size(); i++) {
            String path = ObjectKeys.sample((int) samples.get(i).index());
            Uint8Image image = images.get(i);
            puts.add(CompletableFuture.supplyAsync(() -> put(task, path, Png.encode(image), Png.MEDIA_TYPE), uploads));
        }
        return join(puts);
    }

    private static List<Manifest.File> join(List<CompletableFuture<Manifest.File>> puts) {
        try {
            return puts.stream().map(CompletableFuture::join).toList();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private String saveManifest(Task task, String path, List<Manifest.File> files) {
        List<Manifest.File> sorted = new ArrayList<>(files);
        sorted.sort(Comparator.comparing(Manifest.File::path));
        objects.put(key(task, path), Wire.toBytes(new Manifest(sorted)), "application/json");
        return path;
    }

    /** Stores each output it is given under the task's job and adds its manifest entry to {@code files}. */
    private Consumer<ImageRun.Output> putInto(Task task, List<Manifest.File> files) {
        return o -> files.add(put(task, o.path(), o.data(), o.mediaType()));
    }

    private Manifest.File put(Task task, String path, byte[] data, String mediaType) {
        objects.put(key(task, path), data, mediaType);
        return new Manifest.File(path, data.length, mediaType, null);
    }

    private static String key(Task task, String path) {
        return ObjectKeys.key(task.tenant(), task.jobId(), path);
    }

    static Uint8Image image(float[] x, int[] shape) {
        return Uint8Image.fromModelScale(x, shape[0], shape[1], shape[2]);
    }

    private static Uint8Image grid(float[][] rows, int[] shape) {
        return Grid.of(Arrays.stream(rows).map(x -> image(x, shape)).toList());
    }
}

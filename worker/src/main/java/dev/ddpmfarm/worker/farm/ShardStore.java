package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.data.IdxArray;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.eval.Classifier;
import dev.ddpmfarm.worker.output.Grid;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.sampling.SampleState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a task stores (SPEC §6), all under its job's prefix with deterministic keys, so a redelivered task overwrites:
 * checkpoints, frames, the samples, and last the manifest, which lists only objects already stored whole.
 * <p>
 * A job of one task stores {@code samples.npy}, {@code grid.png}, {@code status.json} and {@code manifest.json} at
 * the job's prefix. A task of a sharded job stores them under {@code shards/{shard:05d}/}; sample PNGs always go to
 * {@code samples/{index:06d}.png} by global index.
 */
final class ShardStore {
    /** The most samples drawn in a result grid. */
    static final int GRID_MAX = 256;

    private final ObjectStore objects;
    private final String workerId;
    private final Executor uploads;

    /**
     * @param uploads runs the puts of one task's sample PNGs concurrently (object stores answer each put with a
     *                round trip; many in flight keep the link busy)
     */
    ShardStore(ObjectStore objects, String workerId, Executor uploads) {
        this.objects = objects;
        this.workerId = workerId;
        this.uploads = uploads;
    }

    /** {@code status.json}: what this worker did with a task; {@code resumedWork} is what a checkpoint saved. */
    record ShardStatus(String jobId, int shard, int shards, int start, int end, String status, int attempt,
                       String worker, long resumedWork, Instant finishedAt) {
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
     * Stores the results of a finished task: the requested formats, {@code status.json}, then the manifest.
     *
     * @return the manifest's path relative to the job's prefix
     */
    String saveResults(TaskRun run, int[] imageShape, Classifier classifier) {
        Task task = run.task();
        List<SampleState> samples = run.states();
        List<Uint8Image> images = samples.stream().map(s -> image(s.x(), imageShape)).toList();
        String dir = task.shards() == 1 ? "" : String.format("shards/%05d/", task.shard());
        List<Manifest.File> files = new ArrayList<>();
        List<OutputFormat> outputs = run.request().outputs();
        if (outputs.contains(OutputFormat.PNG)) {
            files.addAll(savePngs(task, samples, images));
        }
        if (outputs.contains(OutputFormat.NPY)) {
            files.add(put(task, dir + ObjectKeys.SAMPLES_NPY, Npy.images(images).encode(), Npy.MEDIA_TYPE));
        }
        if (outputs.contains(OutputFormat.GRID)) {
            files.add(put(task, dir + ObjectKeys.GRID,
                    Png.encode(Grid.of(images.subList(0, Math.min(GRID_MAX, images.size())))), Png.MEDIA_TYPE));
        }
        if (outputs.contains(OutputFormat.IDX) || outputs.contains(OutputFormat.LABELS)) {
            files.addAll(saveLabels(run, images, classifier, dir));
        }
        return finish(task, dir, files, run.resumedSteps());
    }

    /**
     * The {@code idx} files (Fashion-MNIST's format: {@code images-idx3-ubyte}, {@code labels-idx1-ubyte}) and
     * {@code labels.csv} (index, seed, requested class, the classifier's class and confidence). An IDX label is the
     * requested class, or the classifier's for an unconditional job.
     */
    private List<Manifest.File> saveLabels(TaskRun run, List<Uint8Image> images, Classifier classifier, String dir) {
        Task task = run.task();
        Integer requested = run.request().classLabel();
        int n = images.size();
        int[] predicted = new int[n];
        double[] confidence = new double[n];
        if (classifier != null) {
            float[][] rows = images.stream().map(ShardStore::modelScale).toArray(float[][]::new);
            INDArray p;
            synchronized (classifier) {
                p = classifier.probabilities(Classifier.toInput(rows));
            }
            for (int i = 0; i < n; i++) {
                predicted[i] = p.getRow(i).argMax().getInt(0);
                confidence[i] = p.getDouble(i, predicted[i]);
            }
        } else if (requested == null) {
            throw new IllegalStateException("the idx and labels outputs of an unconditional job need the model's "
                    + "classifier (" + Classifier.FILE_NAME + " beside it) to label the samples");
        }
        List<Manifest.File> files = new ArrayList<>();
        List<OutputFormat> outputs = run.request().outputs();
        if (outputs.contains(OutputFormat.IDX)) {
            Uint8Image first = images.get(0);
            byte[] pixels = new byte[n * first.pixels().length];
            byte[] labels = new byte[n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(images.get(i).pixels(), 0, pixels, i * first.pixels().length, first.pixels().length);
                labels[i] = (byte) (requested != null ? requested : predicted[i]);
            }
            files.add(put(task, dir + "images-idx3-ubyte",
                    idx(new IdxArray(new int[] {n, first.height(), first.width()}, pixels)), Npy.MEDIA_TYPE));
            files.add(put(task, dir + "labels-idx1-ubyte", idx(new IdxArray(new int[] {n}, labels)), Npy.MEDIA_TYPE));
        }
        if (outputs.contains(OutputFormat.LABELS)) {
            StringBuilder csv = new StringBuilder("index,seed,class,predicted,confidence\n");
            for (int i = 0; i < n; i++) {
                csv.append(task.start() + i).append(',').append(run.request().seed()).append(',')
                        .append(requested == null ? "" : requested).append(',')
                        .append(classifier == null ? "" : predicted[i]).append(',')
                        .append(classifier == null ? "" : String.format(Locale.ROOT, "%.4f", confidence[i]))
                        .append('\n');
            }
            files.add(put(task, dir + ObjectKeys.LABELS_CSV, csv.toString().getBytes(StandardCharsets.UTF_8),
                    "text/csv"));
        }
        return files;
    }

    private static byte[] idx(IdxArray array) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            array.write(out, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static float[] modelScale(Uint8Image image) {
        float[] x = new float[image.pixels().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = Uint8Image.toModelScale(image.pixels()[i] & 0xff);
        }
        return x;
    }

    /** Stores an image job's result files, {@code status.json}, then the manifest; returns the manifest's path. */
    String saveOutputs(Task task, List<ImageRun.Output> outputs) {
        List<CompletableFuture<Manifest.File>> puts = outputs.stream().map(o -> CompletableFuture.supplyAsync(
                () -> put(task, o.path(), o.data(), o.mediaType()), uploads)).toList();
        return finish(task, "", join(puts), 0);
    }

    private String finish(Task task, String dir, List<Manifest.File> files, long resumedWork) {
        List<Manifest.File> all = new ArrayList<>(files);
        all.add(put(task, dir + ObjectKeys.STATUS, Wire.toBytes(new ShardStatus(task.jobId(), task.shard(),
                task.shards(), task.start(), task.end(), "succeeded", task.attempt(), workerId, resumedWork,
                Instant.now())), "application/json"));
        return saveManifest(task, manifestPath(task), all);
    }

    /** Stores the finished samples of a cancelled task (finished samples are kept) and their shard manifest. */
    void saveCancelled(TaskRun run, int[] imageShape) {
        List<SampleState> done = run.finishedStates();
        if (!done.isEmpty()) {
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

    private Manifest.File put(Task task, String path, byte[] data, String mediaType) {
        objects.put(key(task, path), data, mediaType);
        return new Manifest.File(path, data.length, mediaType, null);
    }

    private static String key(Task task, String path) {
        return ObjectKeys.key(task.tenant(), task.jobId(), path);
    }

    private static Uint8Image image(float[] x, int[] shape) {
        return Uint8Image.fromModelScale(x, shape[0], shape[1], shape[2]);
    }

    private static Uint8Image grid(float[][] rows, int[] shape) {
        return Grid.of(Arrays.stream(rows).map(x -> image(x, shape)).toList());
    }
}

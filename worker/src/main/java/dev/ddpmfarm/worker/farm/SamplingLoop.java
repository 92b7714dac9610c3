package dev.ddpmfarm.worker.farm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.ModelRegistry;
import dev.ddpmfarm.common.store.StoreException;
import dev.ddpmfarm.common.wire.Control;
import dev.ddpmfarm.common.wire.ControlAction;
import dev.ddpmfarm.common.wire.ErrorEvent;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.ImageJobRequest;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ProgressiveRequest;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Topics;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.eval.Classifier;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.model.LoadedModel;
import dev.ddpmfarm.worker.sampling.BatchSampler;
import dev.ddpmfarm.worker.sampling.ContinuousBatch;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one thread: pulls tasks from {@code farm.jobs.v1}, runs the samples of every task it holds in one
 * continuous batch per model, stores checkpoints, frames and results, reports on {@code farm.events.v1}, and commits
 * a task's offset only once its results are stored and its result event acknowledged (SPEC §5).
 * <p>
 * Each turn of the loop: poll tasks (without waiting while there is work), poll cancellations, take one reverse step
 * for every admitted sample, store what that step completed, commit. A task that fails (a store or model error) is
 * re-published with its attempt counted and delayed by an exponential backoff, up to {@code FARM_WORKER_MAX_ATTEMPTS}
 * deliveries; then it is dead-lettered and its job failed with the reason. A record that is not a valid task is
 * dead-lettered at once. When partitions move to another worker (rebalance, shutdown), the tasks of those partitions
 * are checkpointed and dropped here; their new owner resumes them.
 */
final class SamplingLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(SamplingLoop.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    private static final Duration CONTROL_CATCH_UP = Duration.ofSeconds(30);
    private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long ACK_TIMEOUT_SECONDS = 30;
    /** The pause before a task that met an unavailable object store runs again, without spending an attempt. */
    private static final long STORE_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** The pause before the result event of stored results, which the broker did not acknowledge, is sent again. */
    private static final long REPORT_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Image jobs (progressive, rate-distortion) run at once; fetching pauses at this many until one ends. */
    private static final int MAX_IMAGE_RUNS = 4;
    /** How often an image job that found {@link #MAX_IMAGE_RUNS} running tries to start again. */
    private static final long IMAGE_RUN_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final String REASON_HEADER = Topics.DLQ_REASON_HEADER;

    /** The batch of one model. */
    private record Slot(LoadedModel model, Classifier classifier, ContinuousBatch<TaskRun> batch, int[] imageShape,
                        int dims) {
    }

    /** A finished task whose results are being stored. */
    private record Storing(Task task, TopicPartition partition, long offset, CompletableFuture<String> manifest,
                           long sinceNanos) {
    }

    /** A redelivered task waiting out its backoff. */
    private record Delayed(Task task, TopicPartition partition, long offset, long readyAtNanos) {
    }

    /** A record that is not a task, to dead-letter; its offset stays open until the broker has the dead letter. */
    private record Unreadable(TopicPartition partition, long offset, String key, byte[] value, String reason) {
    }

    private final Consumer<String, byte[]> tasks;
    private final Consumer<String, Control> control;
    private final Producer<String, byte[]> producer;
    private final ShardStore store;
    private final ModelRegistry models;
    private final int maxBatch;
    private final int maxAttempts;
    private final long checkpointIntervalNanos;
    private final OffsetTracker offsets = new OffsetTracker();
    private final Map<String, Slot> slots = new HashMap<>();
    private final List<TaskRun> runs = new ArrayList<>();
    private final List<ImageRun> imageRuns = new ArrayList<>();
    private final List<Delayed> delayed = new ArrayList<>();
    private final List<Unreadable> unreadable = new ArrayList<>();
    private final List<Storing> storing = new ArrayList<>();
    private final Executor results;
    private final Set<String> cancelled = new HashSet<>();
    private final WorkerStats stats;
    private volatile boolean running = true;

    SamplingLoop(FarmConfig config, Consumer<String, byte[]> tasks, Consumer<String, Control> control,
                 Producer<String, byte[]> producer, ShardStore store, Executor results, ModelRegistry models,
                 WorkerStats stats) {
        this.results = results;
        this.tasks = tasks;
        this.control = control;
        this.producer = producer;
        this.store = store;
        this.models = models;
        this.stats = stats;
        this.maxBatch = config.get(FarmConfig.WORKER_MAX_BATCH);
        this.maxAttempts = config.get(FarmConfig.WORKER_MAX_ATTEMPTS);
        this.checkpointIntervalNanos = config.get(FarmConfig.WORKER_CHECKPOINT_INTERVAL).toNanos();
    }

    /** Asks the loop to stop after its current step; it checkpoints its tasks and leaves the group. */
    void stop() {
        running = false;
        tasks.wakeup();
    }

    @Override
    public void run() {
        List<TopicPartition> controlPartitions = control.partitionsFor(Topics.CONTROL, Duration.ofSeconds(30))
                .stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        control.assign(controlPartitions);
        control.seekToBeginning(controlPartitions);
        catchUpCancellations(controlPartitions);
        tasks.subscribe(List.of(Topics.JOBS), new Rebalance());
        try {
            while (running) {
                try {
                    turn();
                } catch (WakeupException e) {
                    throw e;
                } catch (RuntimeException e) {
                    stats.loopFailures.incrementAndGet();
                    LOG.error("a turn of the sampling loop failed; going on", e);
                    sleepQuietly();
                }
            }
        } catch (WakeupException e) {
            LOG.debug("woken up to stop");
        } finally {
            storing.forEach(st -> st.manifest().exceptionally(e -> null).join());
            reportStored();
            List<TopicPartition> held = new ArrayList<>(runs.stream().map(TaskRun::partition).toList());
            imageRuns.forEach(r -> held.add(r.partition()));
            handOver(held);
            commit();
        }
    }

    private void turn() {
        boolean idle = runs.isEmpty() && imageRuns.isEmpty();
        for (ConsumerRecord<String, byte[]> r : tasks.poll(idle && delayed.isEmpty() && storing.isEmpty() ? IDLE_POLL
                : idle ? Duration.ofMillis(20) : Duration.ZERO)) {
            accept(r);
        }
        List<Unreadable> rejected = List.copyOf(unreadable);
        unreadable.clear();
        rejected.forEach(this::reject);
        startDelayed();
        // after every start of this turn: a task of a cancelled job is dropped before a step could finish it
        pollCancellations();
        for (Slot slot : slots.values()) {
            if (!slot.batch().isEmpty()) {
                step(slot);
            }
        }
        List.copyOf(imageRuns).forEach(this::step);
        storeCompleted();
        reportStored();
        flowControl();
        commit();
    }

    // ---- accepting tasks ----------------------------------------------------------------------------------------

    private void accept(ConsumerRecord<String, byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        offsets.received(partition, record.offset());
        Task task;
        try {
            task = Wire.fromBytes(record.value(), Task.class);
        } catch (IllegalArgumentException e) {
            reject(new Unreadable(partition, record.offset(), record.key(), record.value(),
                    "not a valid task: " + e.getMessage()));
            return;
        }
        if (cancelled.contains(task.jobId()) && task.request() instanceof ImageJobRequest) {
            deleteCheckpoint(task);
            offsets.finished(partition, record.offset());
        } else if (cancelled.contains(task.jobId())) {
            // started only to store the samples its checkpoint finished (SPEC §3 keeps them), then cancelled
            start(task, partition, record.offset());
        } else if (task.attempt() > 1) {
            delayed.add(new Delayed(task, partition, record.offset(), System.nanoTime() + backoffNanos(task.attempt())));
        } else {
            start(task, partition, record.offset());
        }
    }

    /**
     * Dead-letters a record that is not a task and fails its job when it names one; when the broker does not take
     * them, the record waits for the next turn (a throw here would lose the rest of the poll).
     */
    private void reject(Unreadable record) {
        try {
            deadLetter(record.key(), record.value(), record.reason());
            unreadableTaskError(record.value(), record.reason()).ifPresent(error -> send(error, true));
            offsets.finished(record.partition(), record.offset());
        } catch (RuntimeException e) {
            LOG.warn("cannot dead-letter a record that is not a task ({}); trying again", e.toString());
            unreadable.add(record);
        }
    }

    /**
     * The error event that fails the job of a task this worker cannot read (one from a newer gateway, say), when the
     * record still names its job and tenant: without it the job would wait in {@code queued} for ever.
     */
    private static Optional<ErrorEvent> unreadableTaskError(byte[] value, String reason) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            JsonNode task = Wire.mapper().readTree(value);
            if (task != null && task.path("jobId").isTextual() && task.path("tenant").isTextual()) {
                return Optional.of(ErrorEvent.of(task.path("jobId").textValue(), task.path("tenant").textValue(),
                        task.path("shard").asInt(0), Instant.now(), reason));
            }
        } catch (IOException e) {
            LOG.debug("the unreadable task is not JSON either: {}", e.toString());
        }
        return Optional.empty();
    }

    /** A pause after an unexpected failure, so a persistent one does not spin. */
    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** 1 s before the second delivery, doubling each time, at most a minute. */
    static long backoffNanos(int attempt) {
        return TimeUnit.SECONDS.toNanos(Math.min(60, 1L << Math.min(6, attempt - 2)));
    }

    /** Starts the delayed tasks whose time has come; one that fails again is delayed anew by {@link #fail}. */
    private void startDelayed() {
        long now = System.nanoTime();
        List<Delayed> ready = new ArrayList<>();
        delayed.removeIf(d -> now >= d.readyAtNanos() && ready.add(d));
        ready.forEach(d -> start(d.task(), d.partition(), d.offset()));
    }

    private void start(Task task, TopicPartition partition, long offset) {
        if (task.request() instanceof ImageJobRequest && imageRuns.size() >= MAX_IMAGE_RUNS) {
            // a poll may bring more image jobs than the cap that pauses fetching allows: they wait their turn here
            delayed.add(new Delayed(task, partition, offset, System.nanoTime() + IMAGE_RUN_WAIT_NANOS));
            return;
        }
        try {
            if (store.completed(task)) {
                LOG.info("job {} shard {}: results already stored, reporting them again", task.jobId(), task.shard());
                storing.add(new Storing(task, partition, offset, CompletableFuture.supplyAsync(() -> {
                    store.joinShards(task);
                    return ShardStore.manifestPath(task);
                }, results), System.nanoTime()));
                return;
            }
            store.saveRequest(task);
            if (task.request() instanceof ImageJobRequest request) {
                startImageRun(task, partition, offset, request);
                return;
            }
            GenerateRequest request = (GenerateRequest) task.request();
            Slot slot = slot(request.model());
            TaskRun run = TaskRun.start(task, partition, offset, slot.model().process(), slot.dims(),
                    store.checkpoint(task).orElse(null));
            if (run.resumedSteps() > 0) {
                LOG.info("job {} shard {}: resuming from its checkpoint, {} of {} sample-steps already taken",
                        task.jobId(), task.shard(), run.resumedSteps(), (long) task.size() * run.steps());
                stats.resumed.incrementAndGet();
            }
            runs.add(run);
            run.unfinished().forEach(s -> slot.batch().add(run, s, request.priority()));
        } catch (RuntimeException | IOException e) {
            fail(task, partition, offset, e);
        }
    }

    /** Starts a progressive or rate-distortion job; unusable input images fail it at once, without retries. */
    private void startImageRun(Task task, TopicPartition partition, long offset, ImageJobRequest request)
            throws IOException {
        Slot slot = slot(request.model());
        float[][] x0;
        try {
            x0 = JobImages.load(request.input(), slot.imageShape());
        } catch (IllegalArgumentException e) {
            giveUp(task, partition, offset, e.getMessage());
            return;
        }
        LoadedModel model = slot.model();
        byte[] checkpoint = store.imageCheckpoint(task).orElse(null);
        ImageRun run = request instanceof ProgressiveRequest
                ? new ProgressiveRun(task, partition, offset, model.denoiser(), model.process(), x0, maxBatch,
                checkpoint)
                : new RateDistortionRun(task, partition, offset, model, x0, maxBatch, checkpoint);
        if (run.resumedWork() > 0) {
            LOG.info("job {}: resuming from its checkpoint, {} of {} forward passes already done", task.jobId(),
                    run.resumedWork(), run.work());
            stats.resumed.incrementAndGet();
        }
        imageRuns.add(run);
    }

    private Slot slot(String modelName) {
        Slot slot = slots.get(modelName);
        if (slot == null) {
            ModelRegistry.Model m = models.model(modelName).orElseThrow(
                    () -> new IllegalStateException("model " + modelName + " is not installed on this worker"));
            LoadedModel model = LoadedModel.load(m.dir(), new PrintStream(System.err, true, StandardCharsets.UTF_8));
            BatchSampler sampler = new BatchSampler(model.denoiser());
            Path classifierFile = m.dir().resolve(Classifier.FILE_NAME);
            Classifier classifier;
            try {
                classifier = Files.exists(classifierFile) ? Classifier.load(classifierFile) : null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            slot = new Slot(model, classifier, new ContinuousBatch<>(sampler, maxBatch),
                    model.denoiser().imageShape(), sampler.dims());
            slots.put(modelName, slot);
            LOG.info("loaded model {} from {}", modelName, m.dir());
        }
        return slot;
    }

    // ---- stepping -----------------------------------------------------------------------------------------------

    private void step(Slot slot) {
        List<ContinuousBatch.Stepped<TaskRun>> results;
        long t0 = System.nanoTime();
        try {
            results = slot.batch().step();
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.error("forward pass failed; failing the tasks in its batch", e);
            for (TaskRun run : List.copyOf(runs)) {
                if (slots.get(run.request().model()) == slot) {
                    drop(run);
                    fail(run.task(), run.partition(), run.offset(), taskFailure(e));
                }
            }
            return;
        }
        stats.step(results.size(), (int) results.stream().map(r -> r.owner().task().jobId()).distinct().count(),
                System.nanoTime() - t0);
        Map<TaskRun, List<TaskRun.Frame>> frames = new HashMap<>();
        Set<TaskRun> stepped = new LinkedHashSet<>();
        for (ContinuousBatch.Stepped<TaskRun> s : results) {
            TaskRun run = s.owner();
            stepped.add(run);
            TaskRun.Frame frame = run.record(s.result());
            if (s.result().sample().done()) {
                stats.samplesDone.incrementAndGet();
            }
            if (frame != null) {
                frames.computeIfAbsent(run, r -> new ArrayList<>()).add(frame);
            }
        }
        for (TaskRun run : List.copyOf(stepped)) {
            try {
                vet(run, slot);
            } catch (RuntimeException e) {
                stepped.remove(run);
                drop(run);
                fail(run.task(), run.partition(), run.offset(), e);
            }
        }
        long now = System.nanoTime();
        for (TaskRun run : stepped) {
            Task task = run.task();
            if (!run.reporting.announced) {
                run.reporting.announced = true;
                send(StatusEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), JobStatus.RUNNING), false);
            }
            List<TaskRun.Frame> done = frames.getOrDefault(run, List.of());
            try {
                for (TaskRun.Frame f : done) {
                    if (task.shard() == 0) {
                        String[] paths = store.saveFrame(task, f, slot.imageShape());
                        send(FrameEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), f.step(), f.t(),
                                paths[0], paths[1]), false);
                    }
                }
                if (!run.done() && (!done.isEmpty() || now - run.reporting.lastCheckpointNanos > checkpointIntervalNanos)) {
                    checkpoint(run, slot);
                }
            } catch (RuntimeException e) {
                LOG.warn("job {} shard {}: cannot store a frame or checkpoint ({}); going on", task.jobId(),
                        task.shard(), e.toString());
            }
            if (!done.isEmpty() || now - run.reporting.lastProgressNanos > PROGRESS_INTERVAL_NANOS) {
                run.reporting.lastProgressNanos = now;
                int step = run.meanStep();
                send(ProgressEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), step, run.steps(),
                        run.timestepAfter(step), run.finishedSamples(), task.size()), false);
            }
        }
    }

    /**
     * {@code minConfidence}: the task's newly finished samples go through the model's classifier; one it does not see
     * as its requested class with that probability starts again from x_T with its next seed and rejoins the batch.
     */
    private void vet(TaskRun run, Slot slot) {
        List<SampleState> finished = run.takeToVet();
        if (finished.isEmpty()) {
            return;
        }
        if (slot.classifier() == null) {
            throw new IllegalStateException("minConfidence needs the classifier of model " + run.request().model()
                    + " (" + Classifier.FILE_NAME + " beside it)");
        }
        // judged as stored: quantized to 8 bits, as labels.csv's classifier columns are
        INDArray p = slot.classifier().probabilities(finished.stream()
                .map(s -> ShardStore.image(s.x(), slot.imageShape())).toList());
        double min = run.request().minConfidence();
        for (int i = 0; i < finished.size(); i++) {
            SampleState s = finished.get(i);
            if (p.getRow(i).argMax().getInt(0) != s.classLabel() || p.getDouble(i, s.classLabel()) < min) {
                SampleState again = run.redraw(s);
                if (again != null) {
                    slot.batch().add(run, again, run.request().priority());
                }
            }
        }
    }

    /** One forward pass of an image job, its progress, its checkpoint, and its results once it is done. */
    private void step(ImageRun run) {
        Task task = run.task();
        long t0 = System.nanoTime();
        try {
            run.step();
        } catch (RuntimeException | OutOfMemoryError e) {
            imageRuns.remove(run);
            fail(task, run.partition(), run.offset(), taskFailure(e));
            return;
        }
        stats.step(1, 1, System.nanoTime() - t0);
        Reporting r = run.reporting();
        long now = System.nanoTime();
        if (!r.announced) {
            r.announced = true;
            send(StatusEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), JobStatus.RUNNING), false);
        }
        if (run.done() || now - r.lastProgressNanos > PROGRESS_INTERVAL_NANOS) {
            r.lastProgressNanos = now;
            int total = slots.get(task.request().model()).model().process().timesteps();
            int step = (int) (run.workDone() * total / Math.max(1, run.work()));
            send(ProgressEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), step, total,
                    run.timestep(), run.imagesDone(), run.images()), false);
        }
        byte[] state = now - r.lastCheckpointNanos > checkpointIntervalNanos && !run.done() ? run.checkpoint() : null;
        if (state != null) {
            try {
                store.saveImageCheckpoint(task, state);
            } catch (RuntimeException e) {
                LOG.warn("job {}: cannot store a checkpoint ({}); going on", task.jobId(), e.toString());
            }
            r.lastCheckpointNanos = now;
        }
        if (run.done()) {
            imageRuns.remove(run);
            storing.add(new Storing(task, run.partition(), run.offset(), CompletableFuture.supplyAsync(
                    () -> store.saveOutputs(task, run.outputs(), run.resumedWork()), results), now));
        }
    }

    private void checkpoint(TaskRun run, Slot slot) {
        store.saveCheckpoint(run.task(), Checkpoint.of(run.task(), run.steps(), run.states(), run.draws(),
                run.redraws()[1], slot.imageShape()), slot.imageShape());
        run.reporting.lastCheckpointNanos = System.nanoTime();
    }

    /** Hands the results of finished tasks to the storing threads; the batch goes on meanwhile. */
    private void storeCompleted() {
        for (TaskRun run : List.copyOf(runs)) {
            if (run.done()) {
                runs.remove(run);
                Slot slot = slots.get(run.request().model());
                storing.add(new Storing(run.task(), run.partition(), run.offset(), CompletableFuture.supplyAsync(
                        () -> store.saveResults(run, slot.imageShape(), slot.classifier()), results), System.nanoTime()));
            }
        }
    }

    /** For each task whose results are stored: the result event, then the offset may be committed. */
    private void reportStored() {
        for (Storing st : List.copyOf(storing)) {
            if (!st.manifest().isDone()) {
                continue;
            }
            storing.remove(st);
            Task task = st.task();
            String manifest;
            try {
                manifest = st.manifest().join();
            } catch (CompletionException e) {
                fail(task, st.partition(), st.offset(), e.getCause() instanceof Exception cause ? cause : e);
                continue;
            }
            try {
                send(ResultEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), manifest), true);
            } catch (RuntimeException e) {
                // the results are stored: only the report is missing, so it is tried again, spending no attempt (a
                // last attempt would fail a job whose files are all there); the offset stays open meanwhile
                LOG.warn("job {} shard {}: results stored but not reported ({}); reporting again in {} s",
                        task.jobId(), task.shard(), e.toString(), TimeUnit.NANOSECONDS.toSeconds(REPORT_RETRY_NANOS));
                storing.add(new Storing(task, st.partition(), st.offset(), CompletableFuture.supplyAsync(() -> manifest,
                        CompletableFuture.delayedExecutor(REPORT_RETRY_NANOS, TimeUnit.NANOSECONDS)), st.sinceNanos()));
                continue;
            }
            deleteCheckpoint(task);
            offsets.finished(st.partition(), st.offset());
            stats.tasksDone.incrementAndGet();
            LOG.info("job {} shard {}: results stored in {} ms", task.jobId(), task.shard(),
                    (System.nanoTime() - st.sinceNanos()) / 1_000_000);
        }
    }

    /**
     * Removes the checkpoint of a task that is finished or cancelled. Only tidying: a redelivery finds the stored
     * results or the cancellation before it would look at a checkpoint, so a failure here must not fail the task.
     */
    private void deleteCheckpoint(Task task) {
        try {
            store.deleteCheckpoint(task);
        } catch (RuntimeException e) {
            LOG.warn("job {} shard {}: its checkpoint could not be deleted ({})", task.jobId(), task.shard(),
                    e.toString());
        }
    }

    // ---- cancellation, failure, hand-over -------------------------------------------------------------------------

    /**
     * Reads the cancellations already on the control topic before the first task is taken (for at most
     * {@link #CONTROL_CATCH_UP}): a worker that has just started would otherwise run tasks of jobs cancelled before.
     */
    private void catchUpCancellations(List<TopicPartition> partitions) {
        long deadline = System.nanoTime() + CONTROL_CATCH_UP.toNanos();
        try {
            Map<TopicPartition, Long> ends = control.endOffsets(partitions, CONTROL_CATCH_UP);
            while (partitions.stream().anyMatch(p -> control.position(p) < ends.get(p))
                    && System.nanoTime() < deadline) {
                readCancellations(Duration.ofMillis(100));
            }
        } catch (KafkaException e) {
            LOG.warn("cannot read the control topic to its end ({}); taking tasks anyway", e.toString());
        }
    }

    private void readCancellations(Duration wait) {
        try {
            for (ConsumerRecord<String, Control> r : control.poll(wait)) {
                if (r.value().action() == ControlAction.CANCEL) {
                    cancelled.add(r.value().jobId());
                }
            }
        } catch (RecordDeserializationException e) {
            LOG.warn("skipping unreadable control record at {}/{}: {}", e.topicPartition(), e.offset(), e.getMessage());
            control.seek(e.topicPartition(), e.offset() + 1);
        }
    }

    private void pollCancellations() {
        readCancellations(Duration.ZERO);
        for (TaskRun run : List.copyOf(runs)) {
            if (cancelled.contains(run.task().jobId())) {
                drop(run);
                try {
                    store.saveCancelled(run, slots.get(run.request().model()).imageShape());
                    store.deleteCheckpoint(run.task());
                } catch (RuntimeException e) {
                    LOG.warn("job {} shard {}: cannot store the samples finished before the cancellation: {}",
                            run.task().jobId(), run.task().shard(), e.toString());
                    if (storeUnavailable(e)) {
                        // its checkpoint holds them: the task runs again, and stores them, once the store is back
                        delayed.add(new Delayed(run.task(), run.partition(), run.offset(),
                                System.nanoTime() + STORE_RETRY_NANOS));
                        continue;
                    }
                }
                offsets.finished(run.partition(), run.offset());
                LOG.info("job {} shard {}: cancelled with {} of {} samples finished", run.task().jobId(),
                        run.task().shard(), run.finishedSamples(), run.task().size());
            }
        }
        for (ImageRun run : List.copyOf(imageRuns)) {
            if (cancelled.contains(run.task().jobId())) {
                imageRuns.remove(run);
                deleteCheckpoint(run.task());
                offsets.finished(run.partition(), run.offset());
                LOG.info("job {}: cancelled", run.task().jobId());
            }
        }
        long soon = System.nanoTime() + STORE_RETRY_NANOS;
        for (ListIterator<Delayed> it = delayed.listIterator(); it.hasNext(); ) {
            Delayed d = it.next();
            if (!cancelled.contains(d.task().jobId())) {
                continue;
            }
            if (d.task().request() instanceof ImageJobRequest) {
                it.remove();
                deleteCheckpoint(d.task());
                offsets.finished(d.partition(), d.offset());
            } else if (d.readyAtNanos() > soon) {
                // a retry waiting out its backoff runs soon instead, to store what its checkpoint finished
                it.set(new Delayed(d.task(), d.partition(), d.offset(), soon));
            }
        }
    }

    /** Takes a task's samples out of its batch and forgets it. */
    private void drop(TaskRun run) {
        runs.remove(run);
        Slot slot = slots.get(run.request().model());
        if (slot != null) {
            slot.batch().remove(owner -> owner == run);
        }
    }

    /**
     * A task failed: re-published for a later attempt, or given up when it has had its deliveries. A failure of the
     * object store that a later call may not see (a restart, a network fault) spends no attempt: the task runs here
     * again after a pause, from its newest checkpoint, for as long as the store stays away.
     */
    private void fail(Task task, TopicPartition partition, long offset, Exception e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (storeUnavailable(e)) {
            LOG.warn("job {} shard {}: the object store is unavailable ({}); running it again in {} s", task.jobId(),
                    task.shard(), reason, TimeUnit.NANOSECONDS.toSeconds(STORE_RETRY_NANOS));
            delayed.add(new Delayed(task, partition, offset, System.nanoTime() + STORE_RETRY_NANOS));
            return;
        }
        try {
            if (task.attempt() >= maxAttempts) {
                giveUp(task, partition, offset, "failed " + task.attempt() + " times; last error: " + reason);
                return;
            }
            LOG.warn("job {} shard {}: attempt {} of {} failed ({}); retrying", task.jobId(), task.shard(),
                    task.attempt(), maxAttempts, reason);
            await(producer.send(new ProducerRecord<>(Topics.JOBS, partition.partition(), task.jobId(),
                    Wire.toBytes(task.nextAttempt()))));
            stats.retried.incrementAndGet();
            offsets.finished(partition, offset);
        } catch (RuntimeException unreported) {
            // the broker did not take the retry, the dead letter or the error event: the offset stays open and the
            // same attempt runs here again later, so the task is neither lost nor stuck until a restart
            LOG.warn("job {} shard {}: cannot report the failure ({}); running the attempt here again later",
                    task.jobId(), task.shard(), unreported.toString());
            delayed.add(new Delayed(task, partition, offset, System.nanoTime() + backoffNanos(task.attempt() + 1)));
        }
    }

    /**
     * A failure of a forward pass as the failure of its tasks. Running out of memory there (the heap, or JavaCPP's
     * native limit, which throws an {@link OutOfMemoryError} too) counts as an attempt of the tasks: it would
     * otherwise end the loop, and the task, redelivered with the same attempt, would end the next worker's.
     */
    private static Exception taskFailure(Throwable e) {
        return e instanceof Exception ex ? ex : new IllegalStateException("out of memory: " + e.getMessage(), e);
    }

    /** Whether {@code e} comes from a retriable {@link StoreException}. */
    private static boolean storeUnavailable(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof StoreException store) {
                return store.retriable();
            }
        }
        return false;
    }

    /** Dead-letters a task and fails its job with {@code reason}. */
    private void giveUp(Task task, TopicPartition partition, long offset, String reason) {
        LOG.error("job {} shard {}: giving up: {}", task.jobId(), task.shard(), reason);
        deadLetter(task.jobId(), Wire.toBytes(task), reason);
        send(ErrorEvent.of(task.jobId(), task.tenant(), task.shard(), Instant.now(), reason), true);
        offsets.finished(partition, offset);
    }

    private void deadLetter(String key, byte[] value, String reason) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(Topics.DLQ, key, value);
        r.headers().add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        await(producer.send(r));
        stats.deadLettered.incrementAndGet();
        LOG.warn("dead-lettered a task: {}", reason);
    }

    /** Checkpoints and drops the tasks of partitions this worker gives up, so their next owner resumes them. */
    private void handOver(Collection<TopicPartition> partitions) {
        for (TaskRun run : List.copyOf(runs)) {
            if (partitions.contains(run.partition())) {
                drop(run);
                try {
                    checkpoint(run, slots.get(run.request().model()));
                } catch (RuntimeException e) {
                    LOG.warn("job {} shard {}: cannot checkpoint before handing it over: {}", run.task().jobId(),
                            run.task().shard(), e.toString());
                }
            }
        }
        for (ImageRun run : List.copyOf(imageRuns)) {
            if (partitions.contains(run.partition())) {
                imageRuns.remove(run);
                byte[] state = run.checkpoint();
                try {
                    if (state != null) {
                        store.saveImageCheckpoint(run.task(), state);
                    }
                } catch (RuntimeException e) {
                    LOG.warn("job {}: cannot checkpoint before handing it over: {}", run.task().jobId(),
                            e.toString());
                }
            }
        }
        delayed.removeIf(d -> partitions.contains(d.partition()));
        unreadable.removeIf(u -> partitions.contains(u.partition()));
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            handOver(partitions);
            commit();
            offsets.forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("assigned {} partitions of {}", partitions.size(), Topics.JOBS);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            handOver(partitions);
            offsets.forget(partitions);
        }
    }

    // ---- Kafka plumbing -----------------------------------------------------------------------------------------

    /**
     * Pauses fetching while more samples wait than four batches hold, or while {@link #MAX_IMAGE_RUNS} image jobs run
     * (each holds its images and all its reconstructions' states, and takes a forward pass of its own every turn), so
     * memory and the length of a turn stay bounded.
     */
    private void flowControl() {
        int waiting = slots.values().stream().mapToInt(s -> s.batch().waitingCount()).sum();
        stats.samplesWaiting.set(waiting);
        stats.tasksRunning.set(runs.size());
        if (waiting > 4 * maxBatch || imageRuns.size() >= MAX_IMAGE_RUNS) {
            tasks.pause(tasks.assignment());
        } else if (!tasks.paused().isEmpty()) {
            tasks.resume(tasks.paused());
        }
    }

    private void commit() {
        Map<TopicPartition, OffsetAndMetadata> positions = offsets.committable();
        if (!positions.isEmpty()) {
            tasks.commitSync(positions);
            offsets.committed(positions);
        }
    }

    /** Sends an event; {@code acknowledged} waits until the broker has it (before an offset may be committed). */
    private void send(JobEvent event, boolean acknowledged) {
        var future = producer.send(new ProducerRecord<>(Topics.EVENTS, event.jobId(), Wire.toBytes(event)),
                (meta, e) -> {
                    if (e != null) {
                        LOG.warn("lost a {} event of job {}: {}", event.getClass().getSimpleName(), event.jobId(),
                                e.toString());
                    }
                });
        if (acknowledged) {
            await(future);
        }
    }

    private static void await(java.util.concurrent.Future<?> future) {
        try {
            future.get(ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the broker", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the broker did not acknowledge a record: " + e, e);
        }
    }
}

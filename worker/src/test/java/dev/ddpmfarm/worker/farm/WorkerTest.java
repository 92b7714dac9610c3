package dev.ddpmfarm.worker.farm;

import static dev.ddpmfarm.worker.testing.Tasks.TENANT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ddpmfarm.clients.kafka.FarmTopics;
import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.data.IdxArray;
import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.store.InMemoryObjectStore;
import dev.ddpmfarm.common.wire.Control;
import dev.ddpmfarm.common.wire.ErrorEvent;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.InputSpec;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobRequest;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ProgressiveRequest;
import dev.ddpmfarm.common.wire.RateDistortion;
import dev.ddpmfarm.common.wire.RateDistortionRequest;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.TimestepSelection;
import dev.ddpmfarm.common.wire.Topics;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.common.wire.WireMessage;
import dev.ddpmfarm.embedded.EmbeddedKafka;
import dev.ddpmfarm.worker.eval.BoundEvaluator;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.output.Grid;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.sampling.BatchSampler;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.sampling.StepListener;
import dev.ddpmfarm.worker.testing.Tasks;
import dev.ddpmfarm.worker.testing.TinyModel;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The worker against a real broker, with the in-memory object store and a tiny random-weight model. */
class WorkerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Random RANDOM = new Random(3);

    private static EmbeddedKafka kafka;
    private static Vertx vertx;
    private static FarmConfig config;
    private static Path modelDir;
    private static final InMemoryObjectStore OBJECTS = new InMemoryObjectStore();
    private static Worker worker;
    private static Producer<String, WireMessage> producer;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        Path models = Files.createTempDirectory("farm-models");
        modelDir = TinyModel.write(models);
        config = FarmConfig.from(Map.of("FARM_KAFKA_BOOTSTRAP", kafka.bootstrap(),
                "FARM_MODELS_DIR", models.toString(), "FARM_WORKER_MAX_BATCH", "4", "FARM_WORKER_MAX_ATTEMPTS", "2",
                "FARM_WORKER_METRICS_PORT", "0"));
        try (Admin admin = KafkaClients.admin(config, "test-admin")) {
            FarmTopics.ensure(admin, 1);
        }
        producer = KafkaClients.producer(config, "test-gateway");
        vertx = Vertx.vertx();
        worker = Worker.deploy(vertx, config, OBJECTS).toCompletionStage().toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        producer.close();
        kafka.close();
    }

    private static GenerateRequest request(int count, int steps, int checkpointEvery, Integer label) {
        return new GenerateRequest(TinyModel.NAME, count, Sampler.DDPM, steps, 0.0, VarianceType.BETA, 42L, label,
                label == null ? 1.0 : 2.0, null, null, checkpointEvery,
                List.of(OutputFormat.PNG, OutputFormat.NPY, OutputFormat.GRID), 5, null, null, null);
    }

    private static void submit(Task task) throws Exception {
        producer.send(new ProducerRecord<>(Topics.JOBS, task.shard() % 12, task.jobId(), task)).get();
    }

    /** The uint8 samples {@code [start, end)} of a request as an in-process sampler draws them. */
    private static byte[] expected(GenerateRequest r, int start, int end) {
        UNetModel model = UNetModel.load(modelDir);
        BatchSampler sampler = new BatchSampler(model);
        Scheduler scheduler = Scheduler.create(GaussianDiffusion.of(BetaSchedule.LINEAR, 1000), r.sampler(), r.steps(),
                r.variance(), r.eta());
        List<SampleState> states = new ArrayList<>();
        for (int i = start; i < end; i++) {
            states.add(SampleState.start("x", i, r.seed(), scheduler,
                    r.classOf(i) == null ? Denoiser.NO_CLASS : r.classOf(i), r.guidancePlan(), sampler.dims()));
        }
        List<Uint8Image> images = sampler.run(states, 64, StepListener.NONE).stream()
                .map(s -> Uint8Image.fromModelScale(s.x(), 1, TinyModel.SIZE, TinyModel.SIZE)).toList();
        return Npy.images(images).data();
    }

    /** Reads {@code topic} from the start until {@code until} holds for the records of {@code jobId} read so far. */
    private static <T extends WireMessage> List<T> read(String topic, Class<T> type, String jobId,
                                                        Predicate<List<T>> until) {
        try (Consumer<String, T> c = KafkaClients.reader(config, "test-reader", type)) {
            List<TopicPartition> partitions = c.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            List<T> seen = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!until.test(seen)) {
                assertTrue(System.nanoTime() < deadline, "timed out; saw " + seen);
                for (ConsumerRecord<String, T> r : c.poll(Duration.ofMillis(200))) {
                    if (r.value().jobId().equals(jobId)) {
                        seen.add(r.value());
                    }
                }
            }
            return seen;
        }
    }

    private static long results(List<JobEvent> events) {
        return events.stream().filter(e -> e instanceof ResultEvent).map(JobEvent::shard).distinct().count();
    }

    private static byte[] object(String jobId, String path) {
        return OBJECTS.get(ObjectKeys.key(TENANT, jobId, path)).orElseThrow(() -> new AssertionError("no " + path));
    }

    @Test
    @DisplayName("a two-shard job: both shards' samples equal the in-process sampler's; events, frames, manifests, request.json")
    void shardedJob() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        GenerateRequest r = request(6, 10, 5, 3);
        for (Task t : Tasks.shards(job, r, 2)) {
            submit(t);
        }
        List<JobEvent> events = read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 2);

        assertTrue(events.stream().anyMatch(e -> e instanceof StatusEvent s && s.shard() == 1));
        List<FrameEvent> frames = events.stream().filter(e -> e instanceof FrameEvent).map(e -> (FrameEvent) e).toList();
        assertEquals(List.of(5, 10), frames.stream().map(FrameEvent::step).toList(), "frames of shard 0 at 5 and 10");
        assertEquals(0, frames.get(1).t());
        assertTrue(frames.stream().allMatch(f -> f.shard() == 0));
        object(job, frames.get(0).xt());
        object(job, frames.get(0).x0());
        assertTrue(events.stream().anyMatch(e -> e instanceof ProgressEvent p && p.shard() == 1));

        byte[] expected = expected(r, 0, 6);
        byte[] shard0 = Npy.readUint8(object(job, "shards/00000/samples.npy")).data();
        byte[] shard1 = Npy.readUint8(object(job, "shards/00001/samples.npy")).data();
        byte[] both = new byte[shard0.length + shard1.length];
        System.arraycopy(shard0, 0, both, 0, shard0.length);
        System.arraycopy(shard1, 0, both, shard0.length, shard1.length);
        assertArrayEquals(expected, both, "the samples do not depend on sharding or batching");

        Manifest m = Wire.fromBytes(object(job, ObjectKeys.shardManifest(1)), Manifest.class);
        assertEquals(List.of("samples/000003.png", "samples/000004.png", "samples/000005.png",
                "shards/00001/labels.csv", "shards/00001/samples.npy", "shards/00001/status.json"),
                m.files().stream().map(Manifest.File::path).toList(), "a shard stores its part of the job's files");
        Manifest whole = Wire.fromBytes(object(job, ObjectKeys.MANIFEST), Manifest.class);
        List<String> paths = whole.files().stream().map(Manifest.File::path).toList();
        assertTrue(paths.containsAll(List.of(ObjectKeys.GRID, ObjectKeys.SAMPLES_NPY, "labels.npy",
                "samples/000000.png", "samples/000005.png")), paths::toString);
        for (Manifest.File f : whole.files()) {
            assertEquals(f.size(), object(job, f.path()).length, f.path());
        }
        assertArrayEquals(expected, Npy.readUint8(object(job, ObjectKeys.SAMPLES_NPY)).data(),
                "the last shard to finish joins the parts into the job's samples.npy");
        assertTrue(OBJECTS.list(ObjectKeys.jobPrefix(TENANT, job) + ObjectKeys.CHECKPOINTS).isEmpty(),
                "checkpoints are deleted once the results are stored");
        assertEquals(r, Wire.fromBytes(object(job, ObjectKeys.REQUEST), JobRequest.class),
                "request.json is the resolved request");
    }

    @Test
    @DisplayName("idx and labels outputs: Fashion-MNIST's IDX files and labels.csv, labelled with the requested class")
    void idxAndLabels() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        GenerateRequest r = new GenerateRequest(TinyModel.NAME, 3, Sampler.DDIM, 4, 0.0, VarianceType.BETA, 5L, 6, 1.0, null, null,
                0, List.of(OutputFormat.IDX, OutputFormat.LABELS), 5, null, null, null);
        submit(Tasks.whole(job, r));
        read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 1);

        IdxArray images = IdxArray.read(new ByteArrayInputStream(object(job, "images-idx3-ubyte")), "images");
        IdxArray labels = IdxArray.read(new ByteArrayInputStream(object(job, "labels-idx1-ubyte")), "labels");
        assertArrayEquals(new int[] {3, TinyModel.SIZE, TinyModel.SIZE}, images.shape());
        assertArrayEquals(expected(r, 0, 3), images.data(), "the same pixels as samples.npy would hold");
        assertArrayEquals(new byte[] {6, 6, 6}, labels.data());
        assertEquals("index,seed,class,predicted,confidence\n0,5,6,,\n1,5,6,,\n2,5,6,,\n",
                new String(object(job, ObjectKeys.LABELS_CSV), StandardCharsets.UTF_8),
                "the tiny model has no classifier: its columns stay empty");
    }

    @Test
    @DisplayName("a classes dataset over three shards: per-sample classes, joined idx, npy, labels.csv, imagefolder")
    void datasetJob() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        GenerateRequest r = new GenerateRequest(TinyModel.NAME, null, Sampler.DDIM, 3, 0.0, VarianceType.BETA, 9L,
                null, 2.0, null, null, 0, List.of(OutputFormat.NPY, OutputFormat.GRID, OutputFormat.IDX, OutputFormat.LABELS,
                OutputFormat.IMAGEFOLDER), 5, null, new TreeMap<>(Map.of(2, 2, 5, 3)), null);
        for (Task t : Tasks.shards(job, r, 3)) {
            submit(t);
        }
        read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 3);

        byte[] expected = expected(r, 0, 5);
        IdxArray images = IdxArray.read(new ByteArrayInputStream(object(job, "images-idx3-ubyte")), "images");
        IdxArray labels = IdxArray.read(new ByteArrayInputStream(object(job, "labels-idx1-ubyte")), "labels");
        assertArrayEquals(expected, images.data(), "sample i has class classOf(i), whichever shard ran it");
        assertArrayEquals(new byte[] {2, 2, 5, 5, 5}, labels.data());
        assertArrayEquals(expected, Npy.readUint8(object(job, ObjectKeys.SAMPLES_NPY)).data());
        assertEquals("index,seed,class,predicted,confidence\n0,9,2,,\n1,9,2,,\n2,9,5,,\n3,9,5,,\n4,9,5,,\n",
                new String(object(job, ObjectKeys.LABELS_CSV), StandardCharsets.UTF_8));
        List<String> entries = new ArrayList<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(object(job, "imagefolder.zip")))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                entries.add(e.getName());
                Png.decode(zip.readAllBytes());
            }
        }
        assertEquals(List.of("2/000000.png", "2/000001.png", "5/000002.png", "5/000003.png", "5/000004.png"),
                entries);
        Uint8Image grid = Png.decode(object(job, ObjectKeys.GRID));
        int tile = TinyModel.SIZE + Grid.PADDING;
        assertEquals(List.of(2 * tile + Grid.PADDING, 2 * tile + Grid.PADDING), List.of(grid.width(), grid.height()),
                "one row per class, as many columns as the smallest class has samples");
    }

    @Test
    @DisplayName("minConfidence on a model without a classifier fails the job with a readable error")
    void minConfidenceNeedsAClassifier() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        GenerateRequest r = new GenerateRequest(TinyModel.NAME, 2, Sampler.DDIM, 2, 0.0, VarianceType.BETA, 1L, 3, 1.0, null, null,
                0, List.of(OutputFormat.NPY), 5, null, null, 0.5);
        submit(Tasks.whole(job, r));
        List<JobEvent> events = read(Topics.EVENTS, JobEvent.class, job, e -> e.stream().anyMatch(x ->
                x instanceof ErrorEvent));
        String message = events.stream().filter(e -> e instanceof ErrorEvent).map(e -> ((ErrorEvent) e).message())
                .findFirst().orElseThrow();
        assertTrue(message.contains("minConfidence needs the classifier"), message);
    }

    /**
     * Stores the checkpoint of a 3-sample, 20-step DDPM task (seed 42) after 7 steps of every sample, the first
     * {@code finished} samples then run to their end.
     */
    private static void storeCheckpoint(Task task, int finished) {
        UNetModel model = UNetModel.load(modelDir);
        BatchSampler sampler = new BatchSampler(model);
        Scheduler scheduler = Scheduler.create(GaussianDiffusion.of(BetaSchedule.LINEAR, 1000), Sampler.DDPM, 20,
                VarianceType.BETA, 0);
        List<SampleState> states = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            states.add(SampleState.start(task.jobId(), i, 42, scheduler, Denoiser.NO_CLASS, Guidance.NONE, sampler.dims()));
        }
        for (int k = 0; k < 7; k++) {
            states = sampler.step(states).stream().map(s -> s.sample()).toList();
        }
        List<SampleState> checkpointed = new ArrayList<>(states);
        for (int i = 0; i < finished; i++) {
            SampleState s = checkpointed.get(i);
            while (!s.done()) {
                s = sampler.step(List.of(s)).get(0).sample();
            }
            checkpointed.set(i, s);
        }
        OBJECTS.put(Checkpoint.key(task), Checkpoint.of(task, 20, checkpointed, new int[3], 0, model.imageShape())
                .encode(model.imageShape()), Npy.MEDIA_TYPE);
    }

    @Test
    @DisplayName("a redelivered task resumes from its checkpoint and ends where an uninterrupted run ends")
    void resumesFromCheckpoint() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        GenerateRequest r = request(3, 20, 0, null);
        Task task = Tasks.whole(job, r);
        storeCheckpoint(task, 0);
        long resumedBefore = worker.stats().resumed.get();

        submit(task);
        read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 1);
        assertEquals(resumedBefore + 1, worker.stats().resumed.get());
        assertArrayEquals(expected(r, 0, 3), Npy.readUint8(object(job, ObjectKeys.SAMPLES_NPY)).data());
        assertTrue(OBJECTS.stat(ObjectKeys.key(TENANT, job, ObjectKeys.MANIFEST)).isPresent());
    }

    @Test
    @DisplayName("a cancelled job leaves the batch: no result, its finished samples kept, its offset committed")
    void cancellation() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        submit(Tasks.whole(job, request(16, 1000, 100, null)));
        read(Topics.EVENTS, JobEvent.class, job, e -> e.stream().anyMatch(x -> x instanceof ProgressEvent));
        producer.send(new ProducerRecord<>(Topics.CONTROL, job, Control.cancel(job, TENANT, Instant.now()))).get();

        long deadline = System.nanoTime() + WAIT.toNanos();
        while (committed(job) == 0) {
            assertTrue(System.nanoTime() < deadline, "the cancelled task's offset was not committed");
            Thread.sleep(100);
        }
        List<JobEvent> events = read(Topics.EVENTS, JobEvent.class, job, e -> true);
        assertFalse(events.stream().anyMatch(e -> e instanceof ResultEvent), "no result after a cancellation");
        assertTrue(OBJECTS.stat(ObjectKeys.key(TENANT, job, ObjectKeys.MANIFEST)).isEmpty());
    }

    @Test
    @DisplayName("a task of a job cancelled before it was delivered (after a crash, say) stores the samples its "
            + "checkpoint finished, and no result")
    void cancelledBeforeDelivery() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        Task task = Tasks.whole(job, request(3, 20, 0, null));
        storeCheckpoint(task, 1);
        producer.send(new ProducerRecord<>(Topics.CONTROL, job, Control.cancel(job, TENANT, Instant.now()))).get();
        Thread.sleep(2000); // the worker reads the control topic every turn

        submit(task);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (committed(job) == 0) {
            assertTrue(System.nanoTime() < deadline, "the cancelled task's offset was not committed");
            Thread.sleep(100);
        }
        assertTrue(OBJECTS.stat(ObjectKeys.key(TENANT, job, ObjectKeys.sample(0))).isPresent(), "sample 0 kept");
        assertTrue(OBJECTS.stat(ObjectKeys.key(TENANT, job, ObjectKeys.sample(1))).isEmpty());
        assertTrue(OBJECTS.stat(Checkpoint.key(task)).isEmpty(), "checkpoint removed");
        assertFalse(read(Topics.EVENTS, JobEvent.class, job, e -> true).stream()
                .anyMatch(e -> e instanceof ResultEvent), "no result after a cancellation");
    }

    private static InputSpec uploads(int n) {
        List<String> images = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] pixels = new byte[TinyModel.SIZE * TinyModel.SIZE];
            for (int p = 0; p < pixels.length; p++) {
                pixels[p] = (byte) ((p * 37 + i * 91) % 256);
            }
            images.add(Base64.getEncoder().encodeToString(Png.encode(
                    new Uint8Image(TinyModel.SIZE, TinyModel.SIZE, 1, pixels))));
        }
        return new InputSpec(null, null, null, images);
    }

    @Test
    @DisplayName("a rate-distortion job stores rd.json, rd.csv and rd.png: the rate grows as t falls, NLL = rate + L_0")
    void rateDistortion() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        submit(Tasks.whole(job, new RateDistortionRequest(TinyModel.NAME, uploads(3),
                new TimestepSelection(false, List.of(1000, 500, 1)), 4L, 5)));
        read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 1);

        RateDistortion rd = Wire.fromBytes(object(job, ObjectKeys.RD_JSON), RateDistortion.class);
        assertEquals(List.of(1000, 500, 1), rd.rows().stream().map(RateDistortion.Row::t).toList());
        assertTrue(rd.rows().get(0).rateBitsPerDim() < rd.rows().get(1).rateBitsPerDim()
                && rd.rows().get(1).rateBitsPerDim() < rd.rows().get(2).rateBitsPerDim(), rd.toString());
        assertEquals(rd.nllBitsPerDim(), rd.rows().get(2).rateBitsPerDim() + rd.decoderBitsPerDim(), 1e-9);
        assertEquals(3, rd.images());
        assertTrue(new String(object(job, ObjectKeys.RD_CSV), StandardCharsets.UTF_8).startsWith("t,reverse_steps"));
        Png.decode(object(job, ObjectKeys.RD_PNG));
        Manifest m = Wire.fromBytes(object(job, ObjectKeys.MANIFEST), Manifest.class);
        assertEquals(List.of("rd.csv", "rd.json", "rd.png", "status.json"),
                m.files().stream().map(Manifest.File::path).toList());
    }

    @Test
    @DisplayName("a redelivered rate-distortion job goes on from its stored sums, ends as an uninterrupted run and "
            + "reports the passes it saved")
    void rateDistortionResumes() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        RateDistortionRequest request = new RateDistortionRequest(TinyModel.NAME, uploads(2), TimestepSelection.ALL,
                6L, 5);
        Task task = Tasks.whole(job, request);
        UNetModel model = UNetModel.load(modelDir);
        float[][] x0 = JobImages.load(request.input(), model.imageShape());
        BoundEvaluator evaluator = new BoundEvaluator(model, GaussianDiffusion.of(BetaSchedule.LINEAR, 1000),
                VarianceType.BETA);
        BoundEvaluator.Run interrupted = evaluator.start(x0, 6L, 3);
        for (int k = 0; k < 7; k++) {
            interrupted.step();
        }
        OBJECTS.put(ObjectKeys.key(TENANT, job, ObjectKeys.checkpoints(0) + "state.json"),
                Wire.toBytes(interrupted.state()), "application/json");

        submit(task);
        read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 1);
        RateDistortion rd = Wire.fromBytes(object(job, ObjectKeys.RD_JSON), RateDistortion.class);
        assertEquals(evaluator.evaluate(x0, 6L, 3, t -> { }).nllBitsPerDim(), rd.nllBitsPerDim(), 1e-12);
        assertEquals(7, Wire.fromBytes(object(job, ObjectKeys.STATUS), JsonNode.class).get("resumedWork").asLong());
    }

    @Test
    @DisplayName("a progressive job stores one grid per input (rows = t) and the RMSE of x̂_0 and of each sample")
    void progressive() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        submit(Tasks.whole(job, new ProgressiveRequest(TinyModel.NAME, uploads(2), List.of(1000, 10, 0), 2, 8L, 5)));
        read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 1);

        Uint8Image grid = Png.decode(object(job, "progressive/000.png"));
        int tile = TinyModel.SIZE + Grid.PADDING;
        assertEquals(3 * tile + Grid.PADDING, grid.height(), "three rows, one per t");
        assertEquals((2 + 3) * tile + Grid.PADDING, grid.width(), "x_t, x̂_0, two samples, the original");
        object(job, "progressive/001.png");
        JsonNode report = Wire.mapper().readTree(object(job, "progressive.json"));
        assertEquals(6, report.get("rows").size());
        JsonNode atZero = report.get("rows").get(2);
        assertEquals(0, atZero.get("t").asInt());
        assertEquals(0.0, atZero.get("rmseX0").asDouble(), "at t = 0 x̂_0 is the image itself");
        assertTrue(report.get("rows").get(0).get("rmseSamples").size() == 2);
    }

    @Test
    @DisplayName("more image jobs than a worker runs at once: the ones over the cap wait for a place, then all finish")
    void imageJobsOverTheCap() throws Exception {
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String job = JobIds.next(Instant.now(), RANDOM);
            jobs.add(job);
            submit(Tasks.whole(job, new ProgressiveRequest(TinyModel.NAME, uploads(1), List.of(3, 0), 1, 8L + i, 5)));
        }
        for (String job : jobs) {
            read(Topics.EVENTS, JobEvent.class, job, e -> results(e) == 1);
            object(job, "progressive/000.png");
        }
    }

    @Test
    @DisplayName("an upload whose header passed but whose data is cut short fails its job at once, naming the image")
    void badUpload() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        byte[] png = Base64.getDecoder().decode(uploads(1).images().get(0));
        InputSpec garbage = new InputSpec(null, null, null,
                List.of(Base64.getEncoder().encodeToString(Arrays.copyOf(png, 40))));
        submit(Tasks.whole(job, new RateDistortionRequest(TinyModel.NAME, garbage, TimestepSelection.ALL, 1L, 5)));
        List<JobEvent> events = read(Topics.EVENTS, JobEvent.class, job,
                e -> e.stream().anyMatch(x -> x instanceof ErrorEvent));
        ErrorEvent error = (ErrorEvent) events.stream().filter(e -> e instanceof ErrorEvent).findFirst().orElseThrow();
        assertTrue(error.message().startsWith("input.images[0]: corrupt or truncated PNG"), error.message());
        assertFalse(error.message().contains("failed"), "no retries: " + error.message());
    }

    /** Records of job {@code jobId} on the jobs topic that lie before the worker group's committed positions. */
    private static long committed(String jobId) {
        try (Consumer<String, Task> c = KafkaClients.reader(config, "test-offsets", Task.class);
             Admin admin = KafkaClients.admin(config, "test-offsets-admin")) {
            var offsets = admin.listConsumerGroupOffsets(config.get(FarmConfig.WORKER_GROUP))
                    .partitionsToOffsetAndMetadata().get();
            long n = 0;
            for (var e : offsets.entrySet()) {
                c.assign(List.of(e.getKey()));
                c.seekToBeginning(List.of(e.getKey()));
                long end = e.getValue().offset();
                while (c.position(e.getKey()) < end) {
                    try {
                        for (ConsumerRecord<String, Task> r : c.poll(Duration.ofMillis(200))) {
                            if (r.offset() < end && r.key().equals(jobId)) {
                                n++;
                            }
                        }
                    } catch (RecordDeserializationException unreadable) {
                        // the records poisonAndFailure writes
                        c.seek(unreadable.topicPartition(), unreadable.offset() + 1);
                    }
                }
            }
            return n;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @DisplayName("a task that meets an unavailable object store waits for it without spending its attempts")
    void storeOutage() throws Exception {
        String job = JobIds.next(Instant.now(), RANDOM);
        long loopFailures = worker.stats().loopFailures.get();
        OBJECTS.setAvailable(false);
        try {
            submit(Tasks.whole(job, request(2, 5, 0, null)));
            // longer than this test's two deliveries (FARM_WORKER_MAX_ATTEMPTS=2, 1 s apart) would have lasted
            Thread.sleep(7_000);
        } finally {
            OBJECTS.setAvailable(true);
        }
        List<JobEvent> events = read(Topics.EVENTS, JobEvent.class, job,
                e -> results(e) == 1 || e.stream().anyMatch(x -> x instanceof ErrorEvent));
        assertEquals(1, results(events), events.toString());
        assertTrue(events.stream().noneMatch(x -> x instanceof ErrorEvent), events.toString());
        // a delivery delayed again while the delayed ones were being started once broke the loop's turn
        assertEquals(loopFailures, worker.stats().loopFailures.get());
    }

    @Test
    @DisplayName("an unparseable task is dead-lettered with the reason (and fails its job when it names one); a failing "
            + "one is retried, then dead-lettered")
    void poisonAndFailure() throws Exception {
        String newer = JobIds.next(Instant.now(), RANDOM);
        try (Producer<String, byte[]> raw = KafkaClients.rawProducer(config, "test-raw")) {
            raw.send(new ProducerRecord<>(Topics.JOBS, "poison", "{not json".getBytes(StandardCharsets.UTF_8))).get();
            raw.send(new ProducerRecord<>(Topics.JOBS, newer, ("{\"schemaVersion\":99,\"jobId\":\"" + newer
                    + "\",\"tenant\":\"" + TENANT + "\",\"shard\":0}").getBytes(StandardCharsets.UTF_8))).get();
        }
        List<JobEvent> newerEvents = read(Topics.EVENTS, JobEvent.class, newer,
                e -> e.stream().anyMatch(x -> x instanceof ErrorEvent));
        assertTrue(((ErrorEvent) newerEvents.get(newerEvents.size() - 1)).message().startsWith("not a valid task"),
                "the job of a task the worker cannot read fails instead of waiting for ever: " + newerEvents);
        String job = JobIds.next(Instant.now(), RANDOM);
        GenerateRequest missingModel = new GenerateRequest("no-such-model", 2, Sampler.DDIM, 5, 0.0,
                VarianceType.BETA, 1L, null, 1.0, null, null, 0, List.of(OutputFormat.NPY), 5, null, null, null);
        submit(Tasks.whole(job, missingModel));

        List<JobEvent> events = read(Topics.EVENTS, JobEvent.class, job,
                e -> e.stream().anyMatch(x -> x instanceof ErrorEvent));
        ErrorEvent error = (ErrorEvent) events.stream().filter(e -> e instanceof ErrorEvent).findFirst().orElseThrow();
        assertTrue(error.message().contains("failed 2 times") && error.message().contains("no-such-model"),
                error.message());

        try (Consumer<String, byte[]> dlq = KafkaClients.rawConsumer(config, "test-dlq", "test-dlq", 100)) {
            dlq.subscribe(List.of(Topics.DLQ));
            List<String> reasons = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (reasons.size() < 2) {
                assertTrue(System.nanoTime() < deadline, "dead letters: " + reasons);
                for (ConsumerRecord<String, byte[]> r : dlq.poll(Duration.ofMillis(200))) {
                    reasons.add(r.key() + ": " + new String(r.headers().lastHeader(Topics.DLQ_REASON_HEADER).value(),
                            StandardCharsets.UTF_8));
                }
            }
            assertTrue(reasons.stream().anyMatch(s -> s.startsWith("poison: not a valid task")), reasons.toString());
            assertTrue(reasons.stream().anyMatch(s -> s.startsWith(job + ": failed 2 times")), reasons.toString());
        }
    }
}

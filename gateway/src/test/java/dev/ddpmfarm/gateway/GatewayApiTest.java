package dev.ddpmfarm.gateway;

import static dev.ddpmfarm.gateway.GatewayFixture.ACME_KEY;
import static dev.ddpmfarm.gateway.GatewayFixture.GLOBEX_KEY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.wire.Control;
import dev.ddpmfarm.common.wire.ErrorEvent;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobPage;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Topics;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.common.wire.WireMessage;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(VertxExtension.class)
class GatewayApiTest {
    private static GatewayFixture farm;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        farm = new GatewayFixture(vertx, Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        farm.close();
    }

    private static JobDocument submit(String key, String body) throws Exception {
        HttpResponse<Buffer> r = farm.post(key, body);
        assertEquals(202, r.statusCode(), r.bodyAsString());
        JobDocument doc = Wire.fromBytes(r.body().getBytes(), JobDocument.class);
        assertEquals("/v1/jobs/" + doc.id(), r.getHeader("Location"));
        return doc;
    }

    private static Map<?, ?> problem(HttpResponse<Buffer> r, int status) {
        assertEquals(status, r.statusCode(), r.bodyAsString());
        assertEquals("application/problem+json", r.getHeader("Content-Type"));
        Map<?, ?> p = Wire.fromJson(r.bodyAsString(), Map.class);
        assertEquals(status, p.get("status"));
        assertNotNull(p.get("title"));
        assertNotNull(p.get("type"));
        return p;
    }

    private static List<String> fields(Map<?, ?> problem) {
        return ((List<?>) problem.get("errors")).stream().map(e -> (String) ((Map<?, ?>) e).get("field")).sorted()
                .toList();
    }

    @Test
    @DisplayName("health needs no key; the API answers 401 problem+json without a key or with a wrong one")
    void authentication() throws Exception {
        HttpResponse<Buffer> health = farm.get(null, "/health");
        assertEquals(200, health.statusCode());
        assertEquals("up", Wire.fromJson(health.bodyAsString(), Map.class).get("status"));
        HttpResponse<Buffer> none = farm.get(null, "/v1/jobs");
        problem(none, 401);
        assertTrue(none.getHeader("WWW-Authenticate").startsWith("Bearer"));
        problem(farm.get("wrong-key-0123456789", "/v1/jobs"), 401);
        problem(farm.get(null, "/metrics"), 401);
        problem(farm.post(null, "{\"type\":\"generate\"}"), 401);
        assertEquals(200, farm.get(ACME_KEY, "/v1/jobs").statusCode());
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":1,\"steps\":5}");
        for (List<String> protocols : List.of(List.<String>of(), List.of("bearer.wrong-key-0123456789"))) {
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> farm.connect("/v1/jobs/" + doc.id() + "/events", protocols, null));
            assertTrue(String.valueOf(e.getMessage()).contains("401"), e.toString());
        }
    }

    @Test
    @DisplayName("the web page is served at / without a key, only its own files, with a strict content policy")
    void webPage() throws Exception {
        HttpResponse<Buffer> page = farm.get(null, "/");
        assertEquals(200, page.statusCode());
        assertTrue(page.getHeader("Content-Type").startsWith("text/html"));
        assertTrue(page.getHeader("Content-Security-Policy").startsWith("default-src 'self'"));
        assertTrue(page.bodyAsString().contains("<script src=\"app.js\""));
        assertEquals(200, farm.get(null, "/app.js").statusCode());
        problem(farm.get(null, "/nothing-here.js"), 404);
        problem(farm.get(null, "/../pom.xml"), 404);
        problem(farm.get(null, "/v1/no-such-thing"), 401);
    }

    @Test
    @DisplayName("test images are served by index as PNGs with their class, for the page's picker")
    void datasetImages() throws Exception {
        HttpResponse<Buffer> first = farm.get(ACME_KEY, "/v1/datasets/fashion-mnist:test/images/0");
        assertEquals(200, first.statusCode());
        assertEquals("image/png", first.getHeader("Content-Type"));
        assertEquals("9 Ankle boot", first.getHeader("X-Class"));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(first.body().getBytes()));
        assertEquals(28, image.getWidth());
        assertEquals(28, image.getHeight());
        problem(farm.get(ACME_KEY, "/v1/datasets/fashion-mnist:test/images/10000"), 400);
        problem(farm.get(ACME_KEY, "/v1/datasets/fashion-mnist:test/images/-1"), 400);
        problem(farm.get(ACME_KEY, "/v1/datasets/cifar10/images/0"), 404);
        problem(farm.get(null, "/v1/datasets/fashion-mnist:test/images/0"), 401);
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"type\":\"generate\"                                   | 400 | ''",
            "[1,2]                                                    | 400 | ''",
            "{\"type\":\"generate\",\"count\":\"lots\"}               | 422 | count",
            "{\"type\":\"generate\",\"count\":0}                      | 422 | count",
            "{\"type\":\"generate\",\"count\":-3}                     | 422 | count",
            "{\"type\":\"generate\",\"count\":1000001}                | 422 | count",
            "{\"type\":\"generate\",\"steps\":1001}                   | 422 | steps",
            "{\"type\":\"generate\",\"sampler\":\"euler\"}            | 422 | sampler",
            "{\"type\":\"generate\",\"outputs\":[\"png\",\"gif\"]}    | 422 | outputs[1]",
            "{\"type\":\"generate\",\"class\":10}                     | 422 | class",
            "{\"type\":\"generate\",\"count\":0,\"priority\":10,\"eta\":2} | 422 | count,eta,priority",
            "{\"type\":\"generate\",\"model\":\"cifar10\"}            | 404 | model",
            "{\"type\":\"teleport\"}                                  | 422 | type"})
    @DisplayName("invalid requests are refused naming each bad field, and nothing reaches Kafka")
    void validation(String body, int status, String badFields) throws Exception {
        long jobs = farm.endOffset(Topics.JOBS);
        long events = farm.endOffset(Topics.EVENTS);
        Map<?, ?> p = problem(farm.post(ACME_KEY, body), status);
        assertEquals(List.of(badFields.split(",")), fields(p));
        assertEquals(jobs, farm.endOffset(Topics.JOBS), "no task was produced");
        assertEquals(events, farm.endOffset(Topics.EVENTS), "no event was produced");
    }

    @Test
    @DisplayName("an oversized body is refused with 413 before it is parsed")
    void oversized() throws Exception {
        long jobs = farm.endOffset(Topics.JOBS);
        String padding = "x".repeat(5000);
        problem(farm.post(ACME_KEY, "{\"type\":\"generate\",\"pad\":\"" + padding + "\"}"), 413);
        assertEquals(jobs, farm.endOffset(Topics.JOBS));
    }

    @Test
    @DisplayName("a submitted job is answered 202 after its tasks are on farm.jobs.v1, split into shards of global "
            + "sample indices, with the seed in the document")
    void submitProducesTasks() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":600,\"sampler\":\"ddim\",\"steps\":50}");
        assertEquals(JobStatus.QUEUED, doc.status());
        assertEquals(3, doc.shards());
        assertEquals(600, doc.progress().count());
        assertEquals(doc.seed(), (long) doc.request().seed(), "the document shows the seed used");
        assertEquals(50, ((GenerateRequest) doc.request()).steps());

        List<ConsumerRecord<String, Task>> tasks = farm.records(Topics.JOBS, Task.class, doc.id(), l -> l.size() >= 3);
        assertEquals(3, tasks.size());
        List<Task> sorted = tasks.stream().map(ConsumerRecord::value).sorted(
                java.util.Comparator.comparingInt(Task::shard)).toList();
        assertEquals(List.of(0, 200, 400), sorted.stream().map(Task::start).toList());
        assertEquals(List.of(200, 400, 600), sorted.stream().map(Task::end).toList());
        sorted.forEach(t -> {
            assertEquals(doc.request(), t.request(), "every task carries the resolved request");
            assertEquals("acme", t.tenant());
            assertEquals(1, t.attempt());
        });
        Set<Integer> partitions = new HashSet<>();
        tasks.forEach(r -> partitions.add(r.partition()));
        assertEquals(3, partitions.size(), "the shards spread over partitions");

        JobDocument fetched = Wire.fromBytes(farm.get(ACME_KEY, "/v1/jobs/" + doc.id()).body().getBytes(),
                JobDocument.class);
        assertEquals(doc, fetched);
    }

    @Test
    @DisplayName("another tenant's job is not found: document, cancel, results, files and events all answer 404")
    void tenantIsolation() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":2,\"steps\":10}");
        String path = "/v1/jobs/" + doc.id();
        problem(farm.get(GLOBEX_KEY, path), 404);
        problem(farm.send(farm.http.delete(path), GLOBEX_KEY, null), 404);
        problem(farm.get(GLOBEX_KEY, path + "/results"), 404);
        problem(farm.get(GLOBEX_KEY, path + "/files/grid.png"), 404);
        assertFalse(farm.get(GLOBEX_KEY, "/v1/jobs").bodyAsString().contains(doc.id()));
        assertThrowsUpgrade(path + "/events", GLOBEX_KEY);
        assertEquals(JobStatus.QUEUED, Wire.fromBytes(farm.get(ACME_KEY, path).body().getBytes(),
                JobDocument.class).status(), "globex's DELETE did not cancel it");
    }

    private static void assertThrowsUpgrade(String uri, String key) {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> farm.connect(uri, List.of("bearer." + key), null));
        assertTrue(String.valueOf(e.getMessage()).contains("404") || String.valueOf(e.getCause()).contains("404"),
                e.toString());
    }

    @Test
    @DisplayName("worker events on the topic become the job document and WebSocket frames in order, seq 1, 2, 3, "
            + "…; the socket closes after the terminal status; ?since replays the rest")
    void eventsFlow() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":8,\"steps\":20,\"checkpointEvery\":10}");
        String id = doc.id();
        GatewayFixture.Events ws = farm.connect("/v1/jobs/" + id + "/events", List.of("farm.v1", "bearer." + ACME_KEY),
                null);
        assertEquals("farm.v1", ws.subprotocol, "the key is not echoed when another subprotocol is offered");
        StatusEvent first = assertInstanceOf(StatusEvent.class, ws.next());
        assertEquals(JobStatus.QUEUED, first.status());
        assertEquals(1, first.seq());

        Instant t = Instant.now();
        farm.emit(StatusEvent.of(id, "acme", 0, t, JobStatus.RUNNING),
                ProgressEvent.of(id, "acme", 0, t, 10, 20, 500, 0, 8),
                FrameEvent.of(id, "acme", 0, t, 10, 500, ObjectKeys.frame(10, false), ObjectKeys.frame(10, true)),
                ProgressEvent.of(id, "acme", 0, t, 20, 20, 0, 8, 8),
                ResultEvent.of(id, "acme", 0, t, ObjectKeys.MANIFEST));

        StatusEvent running = assertInstanceOf(StatusEvent.class, ws.next());
        assertEquals(JobStatus.RUNNING, running.status());
        ProgressEvent progress = assertInstanceOf(ProgressEvent.class, ws.next());
        assertEquals(10, progress.step());
        FrameEvent frame = assertInstanceOf(FrameEvent.class, ws.next());
        assertTrue(frame.xt().startsWith("/v1/jobs/" + id + "/files/frames/step-10-xt.png?exp="), frame.xt());
        ProgressEvent last = assertInstanceOf(ProgressEvent.class, ws.next());
        assertEquals(8, last.samplesDone());
        ResultEvent result = assertInstanceOf(ResultEvent.class, ws.next());
        assertEquals("/v1/jobs/" + id + "/results", result.manifest());
        StatusEvent done = assertInstanceOf(StatusEvent.class, ws.next());
        assertEquals(JobStatus.SUCCEEDED, done.status());
        assertEquals(List.of(2L, 3L, 4L, 5L, 6L, 7L), List.of(running.seq(), progress.seq(), frame.seq(), last.seq(),
                result.seq(), done.seq()));
        assertEquals((short) 1000, ws.closeCode(), "normal close after the terminal status");

        JobDocument finished = Wire.fromBytes(farm.get(ACME_KEY, "/v1/jobs/" + id).body().getBytes(),
                JobDocument.class);
        assertEquals(JobStatus.SUCCEEDED, finished.status());
        assertEquals(8, finished.progress().samplesDone());
        assertNotNull(finished.startedAt());
        assertNotNull(finished.finishedAt());

        GatewayFixture.Events replay = farm.connect("/v1/jobs/" + id + "/events?since=4", List.of(), ACME_KEY);
        assertEquals(List.of(5L, 6L, 7L), List.of(replay.next().seq(), replay.next().seq(), replay.next().seq()));
        assertEquals((short) 1000, replay.closeCode());

        GatewayFixture.Events late = farm.connect("/v1/jobs/" + id + "/events", List.of("bearer." + ACME_KEY), null);
        StatusEvent snapshot = assertInstanceOf(StatusEvent.class, late.next());
        assertEquals(JobStatus.SUCCEEDED, snapshot.status());
        assertEquals(7, snapshot.seq(), "the snapshot carries the last seq");
        assertEquals((short) 1000, late.closeCode());
    }

    @Test
    @DisplayName("progress of a sharded job is summed over its shards; it succeeds when every shard has its result")
    void shardedProgress() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":300,\"steps\":10}");
        String id = doc.id();
        Instant t = Instant.now();
        farm.emit(ProgressEvent.of(id, "acme", 0, t, 10, 10, 0, 100, 150),
                ProgressEvent.of(id, "acme", 1, t, 5, 10, 500, 40, 150),
                ResultEvent.of(id, "acme", 0, t, ObjectKeys.shardManifest(0)));
        GatewayFixture.Events ws = farm.connect("/v1/jobs/" + id + "/events?since=0", List.of(), ACME_KEY);
        List<JobEvent> seen = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            seen.add(ws.next());
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), seen.stream().map(JobEvent::seq).toList());
        ProgressEvent second = assertInstanceOf(ProgressEvent.class, seen.get(3));
        assertEquals(140, second.samplesDone());
        assertEquals(300, second.count());
        JobDocument running = farm.document(ACME_KEY, id, d -> d.progress().samplesDone() == 190);
        assertEquals(JobStatus.RUNNING, running.status());
        assertEquals(190, running.progress().samplesDone(), "shard 0's result counts all its 150 samples");

        farm.emit(ResultEvent.of(id, "acme", 1, t, ObjectKeys.shardManifest(1)));
        assertInstanceOf(ResultEvent.class, ws.next());
        assertEquals(JobStatus.SUCCEEDED, assertInstanceOf(StatusEvent.class, ws.next()).status());
    }

    @Test
    @DisplayName("a replay of megabytes reaches a client that reads only after it was written, whole and in order")
    void longReplay() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":2,\"steps\":1000}");
        String id = doc.id();
        Instant t = Instant.now();
        int frames = 9000;
        for (int step = 1; step <= frames; step++) {
            farm.worker.send(new ProducerRecord<>(Topics.EVENTS, id, FrameEvent.of(id, "acme", 0, t,
                    step % 1000 + 1, 999 - step % 1000, ObjectKeys.frame(step, false), ObjectKeys.frame(step, true))));
        }
        farm.worker.flush();
        farm.document(ACME_KEY, id, d -> d.status() == JobStatus.RUNNING);
        GatewayFixture.Events ws = farm.connectPaused("/v1/jobs/" + id + "/events?since=0", ACME_KEY);
        Thread.sleep(3000); // the server writes while the client reads nothing: far more than the socket buffers hold
        ws.resume();
        long seq = 0;
        for (int seen = 0; seen < frames; ) {
            JobEvent e = ws.next();
            assertEquals(++seq, e.seq());
            seen += e instanceof FrameEvent ? 1 : 0;
        }
        farm.emit(ResultEvent.of(id, "acme", 0, t, ObjectKeys.shardManifest(0)));
        assertInstanceOf(ResultEvent.class, ws.next());
        assertEquals(JobStatus.SUCCEEDED, assertInstanceOf(StatusEvent.class, ws.next()).status());
        assertEquals((short) 1000, ws.closeCode());
    }

    @Test
    @DisplayName("a client whose ?since is ahead of this gateway gets only the events after it")
    void sinceAhead() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":2,\"steps\":10}");
        String id = doc.id();
        GatewayFixture.Events ws = farm.connect("/v1/jobs/" + id + "/events?since=4", List.of(), ACME_KEY);
        Instant t = Instant.now();
        for (int step = 1; step <= 6; step++) {
            farm.emit(ProgressEvent.of(id, "acme", 0, t, step, 10, 500, 0, 2));
        }
        assertEquals(5, ws.next().seq(), "the events up to 4, which the client has, are not sent again");
        assertEquals(6, ws.next().seq());
    }

    @Test
    @DisplayName("a shard's error fails the job with a readable message")
    void failure() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":4,\"steps\":10}");
        farm.emit(ErrorEvent.of(doc.id(), "acme", 0, Instant.now(), "retries exhausted: out of memory"));
        GatewayFixture.Events ws = farm.connect("/v1/jobs/" + doc.id() + "/events?since=1", List.of(), ACME_KEY);
        assertEquals("retries exhausted: out of memory", assertInstanceOf(ErrorEvent.class, ws.next()).message());
        StatusEvent failed = assertInstanceOf(StatusEvent.class, ws.next());
        assertEquals(JobStatus.FAILED, failed.status());
        assertEquals("retries exhausted: out of memory", failed.error());
        assertEquals((short) 1000, ws.closeCode());
    }

    @Test
    @DisplayName("an event record without a value is skipped; the events after it still reach their job")
    void emptyEvent() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":4,\"steps\":10}");
        farm.worker.send(new ProducerRecord<>(Topics.EVENTS, doc.id(), null)).get();
        farm.emit(StatusEvent.of(doc.id(), "acme", 0, Instant.now(), JobStatus.RUNNING));
        assertEquals(JobStatus.RUNNING, farm.document(ACME_KEY, doc.id(), d -> d.status() == JobStatus.RUNNING)
                .status());
    }

    @Test
    @DisplayName("minConfidence, and idx or imagefolder outputs of samples without a class, need a model with a classifier")
    void classifierNeeded() throws Exception {
        String body = "{\"type\":\"generate\",\"model\":\"%s\",\"perClass\":1,\"steps\":5,\"minConfidence\":0.5}";
        assertEquals(202, farm.post(ACME_KEY, String.format(body, "fashion-mnist")).statusCode());
        Map<?, ?> p = problem(farm.post(ACME_KEY, String.format(body, "fashion-mnist-bare")), 422);
        assertEquals(List.of("minConfidence"), fields(p));
        // idx and imagefolder label every sample: without a requested class only the classifier can
        String labelled = "{\"type\":\"generate\",\"model\":\"%s\",\"count\":2,\"steps\":5,%s\"outputs\":[\"%s\"]}";
        for (String output : List.of("idx", "imagefolder")) {
            assertEquals(202, farm.post(ACME_KEY, String.format(labelled, "fashion-mnist", "", output)).statusCode());
            assertEquals(202, farm.post(ACME_KEY, String.format(labelled, "fashion-mnist-bare", "\"class\":3,", output))
                    .statusCode());
            assertEquals(List.of("outputs"), fields(problem(farm.post(ACME_KEY, String.format(labelled,
                    "fashion-mnist-bare", "", output)), 422)));
        }
    }

    @Test
    @DisplayName("an uploaded PNG whose header is sound but whose data is cut off is refused at submit, naming it")
    void truncatedUpload() throws Exception {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", png);
        String whole = Base64.getEncoder().encodeToString(png.toByteArray());
        String cut = Base64.getEncoder().encodeToString(Arrays.copyOf(png.toByteArray(), 33)); // signature and IHDR
        String body = "{\"type\":\"progressive\",\"timesteps\":[10],\"input\":{\"images\":[\"%s\",\"%s\"]}}";
        Map<?, ?> p = problem(farm.post(ACME_KEY, String.format(body, whole, cut)), 422);
        assertEquals(List.of("input.images[1]"), fields(p));
        assertEquals(202, farm.post(ACME_KEY, String.format(body, whole, whole)).statusCode());
    }

    @Test
    @DisplayName("the same Idempotency-Key and body return the same job; another body with that key is refused")
    void idempotency() throws Exception {
        String body = "{\"type\":\"generate\",\"count\":3,\"steps\":10}";
        HttpResponse<Buffer> first = farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key", "order-17"),
                ACME_KEY, body);
        assertEquals(202, first.statusCode());
        HttpResponse<Buffer> again = farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key", "order-17"),
                ACME_KEY, body);
        assertEquals(202, again.statusCode());
        assertEquals("true", again.getHeader("Idempotent-Replayed"));
        JobDocument a = Wire.fromBytes(first.body().getBytes(), JobDocument.class);
        JobDocument b = Wire.fromBytes(again.body().getBytes(), JobDocument.class);
        assertEquals(a.id(), b.id());
        assertEquals(a.seed(), b.seed());
        Map<?, ?> p = problem(farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key", "order-17"),
                ACME_KEY, "{\"type\":\"generate\",\"count\":4}"), 422);
        assertEquals(List.of("Idempotency-Key"), fields(p));
        HttpResponse<Buffer> otherTenant = farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key",
                "order-17"), GLOBEX_KEY, body);
        assertFalse(otherTenant.bodyAsString().contains(a.id()), "keys are per tenant");
        assertEquals(1, farm.records(Topics.JOBS, Task.class, a.id(), l -> true).size(),
                "the repeated request produced nothing");
    }

    @Test
    @DisplayName("concurrent submissions with one Idempotency-Key, spread over the API's event loops, make one job")
    void idempotencyAcrossEventLoops() throws Exception {
        String body = "{\"type\":\"generate\",\"count\":2,\"steps\":10}";
        List<io.vertx.core.Future<HttpResponse<Buffer>>> sent = IntStream.range(0, 16).mapToObj(i -> farm.http
                .post("/v1/jobs").putHeader("Authorization", "Bearer " + ACME_KEY).putHeader("Idempotency-Key", "once")
                .sendBuffer(Buffer.buffer(body))).toList();
        Set<String> ids = new HashSet<>();
        for (io.vertx.core.Future<HttpResponse<Buffer>> f : sent) {
            HttpResponse<Buffer> r = GatewayFixture.await(f);
            if (r.statusCode() == 202) {
                ids.add(Wire.fromBytes(r.body().getBytes(), JobDocument.class).id());
            } else {
                assertTrue(problem(r, 409).get("type").toString().endsWith("idempotency-in-flight"), r.bodyAsString());
            }
        }
        assertEquals(1, ids.size(), "every 202 names the same job, so one job was stored: " + ids);
        assertEquals(1, farm.records(Topics.JOBS, Task.class, ids.iterator().next(), l -> true).size());
    }

    @Test
    @DisplayName("a retry while the event consumer lags behind the answer is told to retry, then gets the same job")
    void idempotencyWhileEventsLag() throws Exception {
        String body = "{\"type\":\"generate\",\"count\":2,\"steps\":10}";
        // an open transaction on every partition of the events topic holds the gateway's read_committed consumer
        try (Producer<String, WireMessage> stall = KafkaClients.transactionalProducer(farm.config, "test-stall")) {
            stall.initTransactions();
            stall.beginTransaction();
            String other = JobIds.next(Instant.now(), RandomGenerator.getDefault());
            for (int p = 0; p < stall.partitionsFor(Topics.EVENTS).size(); p++) {
                stall.send(new ProducerRecord<>(Topics.EVENTS, p, other,
                        StatusEvent.of(other, "acme", JobEvent.JOB_LEVEL, Instant.now(), JobStatus.RUNNING))).get();
            }
            HttpResponse<Buffer> first = farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key", "lagging"),
                    ACME_KEY, body);
            assertEquals(202, first.statusCode(), "answered after the wait for the consumer");
            String id = Wire.fromBytes(first.body().getBytes(), JobDocument.class).id();
            assertTrue(problem(farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key", "lagging"),
                    ACME_KEY, body), 409).get("type").toString().endsWith("idempotency-in-flight"));
            stall.abortTransaction();
            HttpResponse<Buffer> retry;
            for (int tries = 0; ; tries++) {
                retry = farm.send(farm.http.post("/v1/jobs").putHeader("Idempotency-Key", "lagging"), ACME_KEY, body);
                if (retry.statusCode() != 409 || tries == 200) {
                    break;
                }
                Thread.sleep(50);
            }
            assertEquals("true", retry.getHeader("Idempotent-Replayed"));
            assertEquals(id, Wire.fromBytes(retry.body().getBytes(), JobDocument.class).id());
            assertEquals(1, farm.records(Topics.JOBS, Task.class, id, l -> true).size());
        }
    }

    @Test
    @DisplayName("DELETE cancels a queued job through farm.control.v1; cancelling a finished job is a conflict")
    void cancel() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":2,\"steps\":10}");
        HttpResponse<Buffer> r = farm.send(farm.http.delete("/v1/jobs/" + doc.id()), ACME_KEY, null);
        assertEquals(202, r.statusCode(), r.bodyAsString());
        assertEquals(JobStatus.CANCELLED, Wire.fromBytes(r.body().getBytes(), JobDocument.class).status());
        List<ConsumerRecord<String, Control>> controls = farm.records(Topics.CONTROL, Control.class, doc.id(),
                l -> !l.isEmpty());
        assertEquals(1, controls.size());
        assertEquals("acme", controls.get(0).value().tenant());
        problem(farm.send(farm.http.delete("/v1/jobs/" + doc.id()), ACME_KEY, null), 409);
        problem(farm.send(farm.http.delete("/v1/jobs/0190d3f0-0000-7000-8000-000000000000"), ACME_KEY, null), 404);
        problem(farm.get(ACME_KEY, "/v1/jobs/not-a-job-id"), 404);
    }

    @Test
    @DisplayName("results list the manifest with signed URLs that download without a key; traversal and bad "
            + "signatures are refused")
    void resultsAndFiles() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":1,\"steps\":10}");
        String id = doc.id();
        problem(farm.get(ACME_KEY, "/v1/jobs/" + id + "/results"), 404);
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
        farm.objects.put(ObjectKeys.key("acme", id, ObjectKeys.GRID), png, "image/png");
        farm.objects.put(ObjectKeys.key("acme", id, ObjectKeys.MANIFEST), Wire.toBytes(new Manifest(List.of(
                new Manifest.File(ObjectKeys.GRID, png.length, "image/png", null)))), "application/json");
        JobDocument other = submit(GLOBEX_KEY, "{\"type\":\"generate\",\"count\":1,\"steps\":10}");
        farm.objects.put(ObjectKeys.key("globex", other.id(), "secret.txt"), "globex's".getBytes(), "text/plain");

        Manifest manifest = Wire.fromBytes(farm.get(ACME_KEY, "/v1/jobs/" + id + "/results").body().getBytes(),
                Manifest.class);
        assertEquals(1, manifest.files().size());
        String url = manifest.files().get(0).url();
        HttpResponse<Buffer> signed = farm.get(null, url);
        assertEquals(200, signed.statusCode());
        assertArrayEquals(png, signed.body().getBytes());
        assertEquals("image/png", signed.getHeader("Content-Type"));
        assertArrayEquals(png, farm.get(ACME_KEY, "/v1/jobs/" + id + "/files/grid.png").body().getBytes());

        problem(farm.get(null, url.replace("sig=", "sig=x")), 403);
        problem(farm.get(null, url.replaceAll("exp=\\d+", "exp=1")), 403);
        problem(farm.get(null, url.replace("grid.png", "manifest.json")), 403);
        problem(farm.get(null, "/v1/jobs/" + id + "/files/grid.png"), 401);
        problem(farm.get(ACME_KEY, "/v1/jobs/" + id + "/files/nothing.png"), 404);
        for (String attack : List.of("../" + other.id() + "/secret.txt", "..%2F" + other.id() + "%2Fsecret.txt",
                "%2e%2e/%2e%2e/globex/jobs/" + other.id() + "/secret.txt", "%252e%252e/secret.txt",
                "..\\secret.txt", "/etc/passwd")) {
            HttpResponse<Buffer> r = farm.get(ACME_KEY, "/v1/jobs/" + id + "/files/" + attack);
            assertTrue(r.statusCode() == 400 || r.statusCode() == 404, attack + " → " + r.statusCode());
            assertFalse(r.bodyAsString().contains("globex's"), attack);
        }
    }

    @Test
    @DisplayName("downloads their clients do not read, more than the worker pool has threads, hold up no other request "
            + "of the gateway")
    void stalledDownload() throws Exception {
        String id = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":1,\"steps\":10}").id();
        farm.objects.put(ObjectKeys.key("acme", id, "big.bin"), new byte[64 << 20], "application/octet-stream");
        farm.objects.put(ObjectKeys.key("acme", id, "small.txt"), "small".getBytes(), "text/plain");
        String request = "GET /v1/jobs/" + id + "/files/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                + ACME_KEY + "\r\n%s\r\n";
        List<Socket> stalled = new ArrayList<>();
        try {
            // Vert.x's worker pool has 20 threads
            for (int i = 0; i < 24; i++) {
                stalled.add(new Socket("127.0.0.1", farm.gateway.port()));
                stalled.get(i).getOutputStream().write(String.format(request, "big.bin", "")
                        .getBytes(StandardCharsets.US_ASCII));
            }
            Thread.sleep(1000);
            // new connections take the API's event loops in turn, so some share the stalled one's
            for (int i = 0; i < 4; i++) {
                try (Socket small = new Socket("127.0.0.1", farm.gateway.port())) {
                    small.setSoTimeout(10_000);
                    small.getOutputStream().write(String.format(request, "small.txt", "Connection: close\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    String answer = new String(small.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("small"), answer);
                }
            }
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    @Test
    @DisplayName("the job list is newest first, filters by status and type, pages with limit and cursor; empty parameters count as absent")
    void listing() throws Exception {
        List<String> ids = IntStream.range(0, 3).mapToObj(i -> {
            try {
                return submit(GLOBEX_KEY, "{\"type\":\"generate\",\"count\":1,\"steps\":5}").id();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
        JobPage first = Wire.fromBytes(farm.get(GLOBEX_KEY, "/v1/jobs?limit=2&type=generate").body().getBytes(),
                JobPage.class);
        assertEquals(List.of(ids.get(2), ids.get(1)), first.jobs().stream().map(JobDocument::id).toList());
        JobPage second = Wire.fromBytes(farm.get(GLOBEX_KEY, "/v1/jobs?limit=2&cursor=" + first.nextCursor()).body()
                .getBytes(), JobPage.class);
        assertEquals(ids.get(0), second.jobs().get(0).id());
        assertTrue(Wire.fromBytes(farm.get(GLOBEX_KEY, "/v1/jobs?status=succeeded").body().getBytes(), JobPage.class)
                .jobs().isEmpty());
        assertEquals(List.of("status"), fields(problem(farm.get(GLOBEX_KEY, "/v1/jobs?status=paused"), 400)));
        assertEquals(List.of("limit"), fields(problem(farm.get(GLOBEX_KEY, "/v1/jobs?limit=1000"), 400)));
        JobPage none = Wire.fromBytes(farm.get(GLOBEX_KEY, "/v1/jobs?type=progressive").body().getBytes(),
                JobPage.class);
        assertTrue(none.jobs().isEmpty());
        assertNull(none.nextCursor());
        // the query as SPEC §3 writes it, every parameter empty: the whole list
        JobPage all = Wire.fromBytes(farm.get(GLOBEX_KEY, "/v1/jobs?status=&type=&limit=&cursor=").body().getBytes(),
                JobPage.class);
        assertEquals(List.of(ids.get(2), ids.get(1), ids.get(0)),
                all.jobs().stream().map(JobDocument::id).toList().subList(0, 3));
    }

    @Test
    @DisplayName("models come from the model directory; metrics are Prometheus text")
    void modelsAndMetrics() throws Exception {
        Map<?, ?> models = Wire.fromJson(farm.get(ACME_KEY, "/v1/models").bodyAsString(), Map.class);
        List<?> cards = (List<?>) models.get("models");
        assertEquals(Set.of("fashion-mnist", "fashion-mnist-bare"),
                cards.stream().map(c -> ((Map<?, ?>) c).get("name")).collect(Collectors.toSet()));
        assertEquals(1000, ((Map<?, ?>) cards.get(0)).get("timesteps"));
        HttpResponse<Buffer> metrics = farm.get(ACME_KEY, "/metrics");
        assertTrue(metrics.getHeader("Content-Type").startsWith("text/plain"));
        String text = metrics.bodyAsString();
        for (String name : List.of("farm_jobs{status=\"queued\"}", "farm_queue_depth_tasks", "farm_jobs_submitted_total",
                "farm_events_consumed_total", "farm_event_lag_records", "farm_events_consumer_up 1")) {
            assertTrue(text.contains("\n" + name + " ") || text.startsWith(name + " ")
                    || text.contains("\n" + name), name + " in\n" + text);
        }
    }

    @Test
    @DisplayName("the WebSocket sends heartbeat pings")
    void heartbeat() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":1,\"steps\":5}");
        GatewayFixture.Events ws = farm.connect("/v1/jobs/" + doc.id() + "/events", List.of(), ACME_KEY);
        ws.next();
        ws.pings.get(GatewayFixture.WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        ws.close();
    }

    @Test
    @DisplayName("a restarted gateway rebuilds every job from farm.events.v1: same documents, same seq numbers")
    void restart() throws Exception {
        JobDocument doc = submit(ACME_KEY, "{\"type\":\"generate\",\"count\":5,\"steps\":10}");
        Instant t = Instant.now();
        farm.emit(StatusEvent.of(doc.id(), "acme", 0, t, JobStatus.RUNNING),
                ProgressEvent.of(doc.id(), "acme", 0, t, 4, 10, 600, 0, 5));
        GatewayFixture.Events before = farm.connect("/v1/jobs/" + doc.id() + "/events?since=0", List.of(), ACME_KEY);
        List<JobEvent> seen = List.of(before.next(), before.next(), before.next());
        JobDocument running = Wire.fromBytes(farm.get(ACME_KEY, "/v1/jobs/" + doc.id()).body().getBytes(),
                JobDocument.class);
        before.close();

        farm.stopGateway();
        farm.startGateway();

        assertEquals(running, Wire.fromBytes(farm.get(ACME_KEY, "/v1/jobs/" + doc.id()).body().getBytes(),
                JobDocument.class));
        GatewayFixture.Events after = farm.connect("/v1/jobs/" + doc.id() + "/events?since=0", List.of(), ACME_KEY);
        assertEquals(seen, List.of(after.next(), after.next(), after.next()), "the same events with the same seq");
        farm.emit(ResultEvent.of(doc.id(), "acme", 0, t, ObjectKeys.MANIFEST));
        assertEquals(4, assertInstanceOf(ResultEvent.class, after.next()).seq());
        assertEquals(JobStatus.SUCCEEDED, assertInstanceOf(StatusEvent.class, after.next()).status());
    }
}

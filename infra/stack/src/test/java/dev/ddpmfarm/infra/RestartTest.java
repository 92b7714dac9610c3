package dev.ddpmfarm.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.clients.kafka.FarmTopics;
import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobPage;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.embedded.EmbeddedKafka;
import dev.ddpmfarm.embedded.EmbeddedS3;
import dev.ddpmfarm.gateway.Gateway;
import dev.ddpmfarm.worker.farm.Worker;
import io.vertx.core.Vertx;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Issue 6, items 2 and 3: the gateway and the broker restart while jobs run, with the same parts {@code farm up}
 * runs (real KRaft broker, real S3 server, gateway, worker, a tiny model), each started and stopped on its own.
 */
class RestartTest {
    private static final String KEY = "restart-key-0123456789";
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Pattern REFUSED_JOB = Pattern.compile("did not confirm job (\\S+),");

    private Path dir;
    private int kafkaPort;
    private EmbeddedKafka kafka;
    private EmbeddedS3 s3;
    private FarmConfig config;
    private S3ObjectStore objects;
    private Vertx workerVertx;
    private Vertx gatewayVertx;
    private Gateway gateway;
    private FarmClient client;

    @BeforeEach
    void up() throws Exception {
        dir = Files.createTempDirectory("farm-restart");
        kafkaPort = freePort();
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), kafkaPort);
        s3 = EmbeddedS3.start(dir.resolve("s3"), 0);
        config = TinyFarm.config(dir, "FARM_HTTP_PORT", Integer.toString(freePort()), "FARM_API_KEYS", "acme:" + KEY,
                "FARM_WORKER_MAX_BATCH", "8", "FARM_KAFKA_BOOTSTRAP", kafka.bootstrap(),
                "FARM_S3_ENDPOINT", s3.endpoint().toString(), "FARM_S3_ACCESS_KEY", s3.accessKey(),
                "FARM_S3_SECRET_KEY", s3.secretKey(), "FARM_SUBMIT_TIMEOUT_MS", "1500");
        try (Admin admin = KafkaClients.admin(config, "restart-test")) {
            FarmTopics.ensure(admin, 1);
        }
        objects = S3ObjectStore.connect(config);
        workerVertx = Vertx.vertx();
        EmbeddedStack.await(Worker.deploy(workerVertx, config, objects));
        startGateway();
    }

    private void startGateway() throws Exception {
        gatewayVertx = Vertx.vertx();
        gateway = EmbeddedStack.await(Gateway.start(gatewayVertx, config, objects));
        client = new FarmClient(URI.create("http://localhost:" + gateway.port()), KEY);
    }

    private void stopGateway() throws Exception {
        EmbeddedStack.await(gateway.close());
        EmbeddedStack.await(gatewayVertx.close());
    }

    @AfterEach
    void down() throws Exception {
        stopGateway();
        EmbeddedStack.await(workerVertx.close());
        kafka.close();
        s3.close();
    }

    @Test
    @DisplayName("gateway restart while jobs run: clients reconnect with ?since= and miss no event; documents and "
            + "results are intact")
    void gatewayRestart() throws Exception {
        List<String> ids = new ArrayList<>();
        Map<String, List<JobEvent>> seen = new TreeMap<>();
        Map<String, FarmClient.Events> streams = new TreeMap<>();
        for (int i = 0; i < 3; i++) {
            JobDocument job = client.submit("{\"type\":\"generate\",\"model\":\"tiny\",\"count\":4,\"steps\":600,"
                    + "\"checkpointEvery\":100,\"seed\":" + (40 + i) + "}");
            ids.add(job.id());
            seen.put(job.id(), new ArrayList<>());
            streams.put(job.id(), client.events(job.id(), 0));
        }
        // every client has seen the job run before the gateway goes away
        for (String id : ids) {
            List<JobEvent> events = seen.get(id);
            while (events.isEmpty() || !(events.get(events.size() - 1) instanceof ProgressEvent)) {
                events.add(streams.get(id).next());
            }
        }
        Map<String, JobDocument> before = new TreeMap<>();
        for (String id : ids) {
            before.put(id, client.job(id));
        }

        stopGateway();
        for (String id : ids) {
            streams.get(id).drainUntilEnded(seen.get(id));
        }
        startGateway();

        for (String id : ids) {
            List<JobEvent> events = seen.get(id);
            long last = events.get(events.size() - 1).seq();
            events.addAll(client.events(id, last).untilClosed());
            List<Long> seqs = events.stream().map(JobEvent::seq).toList();
            assertEquals(LongStream.rangeClosed(1, seqs.size()).boxed().toList(), seqs,
                    "job " + id + ": every event once, in order, across the restart");
            assertEquals(JobStatus.SUCCEEDED, assertInstanceOf(StatusEvent.class, events.get(events.size() - 1))
                    .status());
            assertEquals(unsigned(events), unsigned(client.events(id, 0).untilClosed()),
                    "a client that comes later replays the same stream");

            JobDocument after = client.job(id);
            assertEquals(before.get(id).createdAt(), after.createdAt());
            assertEquals(before.get(id).request(), after.request());
            assertEquals(4, after.progress().samplesDone());
            for (Manifest.File f : client.manifest(id).files()) {
                HttpResponse<byte[]> r = client.download(f.url());
                assertEquals(200, r.statusCode(), f.path());
                assertEquals(f.size(), r.body().length, f.path());
            }
        }
    }

    @Test
    @DisplayName("broker restart under a steady submit load: every 202 job finishes; the others got 503, and a job "
            + "is listed only when it got 202 or its 503 named it")
    void brokerRestart() throws Exception {
        AtomicBoolean submitting = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> accepted = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> refused = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> answers = new ConcurrentLinkedQueue<>();
        AtomicLong slowest = new AtomicLong();
        Thread load = new Thread(() -> {
            int n = 0;
            while (submitting.get()) {
                try {
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = client.send("POST", "/v1/jobs", "{\"type\":\"generate\",\"model\":"
                            + "\"tiny\",\"count\":1,\"steps\":20,\"seed\":" + n++ + "}");
                    answers.add(r.statusCode());
                    slowest.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                    if (r.statusCode() == 202) {
                        accepted.add(Wire.fromJson(r.body(), JobDocument.class).id());
                    } else if (r.statusCode() == 503) {
                        Matcher named = REFUSED_JOB.matcher(r.body());
                        refused.add(named.find() ? named.group(1) : "no job named in " + r.body());
                    }
                    Thread.sleep(100);
                } catch (Exception e) {
                    answers.add(-1);
                }
            }
        }, "submit-load");
        load.start();
        Thread.sleep(3000);
        kafka.close();
        Thread.sleep(6000); // longer than FARM_SUBMIT_TIMEOUT_MS: submissions now cannot be stored
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), kafkaPort);
        Thread.sleep(6000);
        submitting.set(false);
        load.join();

        assertTrue(answers.stream().allMatch(s -> s == 202 || s == 503), "only 202 or 503: " + answers);
        assertTrue(answers.contains(503), "submissions while the broker was down were refused: " + answers);
        assertTrue(refused.stream().allMatch(JobIds::valid), "every 503 names its job: " + refused);
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (String id : accepted) {
            assertEquals(JobStatus.SUCCEEDED, awaitSucceeded(id, deadline), "accepted job " + id);
        }
        // a 503 is given when the commit was not confirmed in time; a commit that timed out can still complete on
        // the broker, and the 503 names the job for that case: such a job must then be whole and run like any other
        Set<String> listed = new TreeSet<>();
        for (JobDocument job : Wire.fromJson(client.send("GET", "/v1/jobs?limit=100", null).body(), JobPage.class)
                .jobs()) {
            listed.add(job.id());
        }
        assertTrue(listed.containsAll(accepted), "every accepted job is listed");
        Set<String> takenAfterAll = new TreeSet<>(listed);
        takenAfterAll.removeAll(accepted);
        assertTrue(refused.containsAll(takenAfterAll), "a job nobody was told about: " + takenAfterAll);
        for (String id : takenAfterAll) {
            assertEquals(JobStatus.SUCCEEDED, awaitSucceeded(id, deadline), "job " + id + " of a 503");
        }
        System.out.printf("broker restart: %d submissions, %d accepted (all succeeded), %d refused with 503 (%d of "
                + "them taken by the broker after all, and succeeded), slowest answer %d ms%n", answers.size(),
                accepted.size(), refused.size(), takenAfterAll.size(), slowest.get());
    }

    private JobStatus awaitSucceeded(String id, long deadlineNanos) throws Exception {
        JobStatus status = client.job(id).status();
        while (status != JobStatus.SUCCEEDED && System.nanoTime() < deadlineNanos) {
            Thread.sleep(100);
            status = client.job(id).status();
        }
        return status;
    }

    /** The events as JSON without the frames' URL signatures, which are made afresh for every client. */
    private static List<String> unsigned(List<JobEvent> events) {
        return events.stream().map(e -> Wire.toJson(e).replaceAll("\\?exp=[^\"]*", "")).toList();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

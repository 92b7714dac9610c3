package dev.ddpmfarm.gateway;

import static dev.ddpmfarm.gateway.GatewayFixture.ACME_KEY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.gateway.cli.ClientCli;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class ClientCliTest {
    private static GatewayFixture farm;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        farm = new GatewayFixture(vertx, Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        farm.close();
    }

    /** The outcome of one command: exit status, stdout, stderr. */
    private record Run(int status, String out, String err) {
    }

    private static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ClientCli.run(args, Map.of("FARM_URL", "http://127.0.0.1:" + farm.gateway.port(),
                "FARM_API_KEY", ACME_KEY), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("submit prints the job document; a refused job prints every bad field and exits 1")
    void submit() {
        Run ok = cli("submit", "{\"type\":\"generate\",\"count\":4,\"steps\":10}");
        assertEquals(0, ok.status(), ok.err());
        JobDocument doc = Wire.fromJson(ok.out().trim(), JobDocument.class);
        assertEquals(JobStatus.QUEUED, doc.status());
        Run bad = cli("submit", "{\"type\":\"generate\",\"count\":0,\"sampler\":\"x\"}");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("HTTP 422") && bad.err().contains("count:") && bad.err().contains("sampler:"),
                bad.err());
        assertEquals(2, cli("submit").status());
    }

    @Test
    @DisplayName("submit --wait follows the job over the WebSocket to its end and prints the final document")
    void submitAndWait() throws Exception {
        CompletableFuture<Run> run = CompletableFuture.supplyAsync(() -> cli("submit",
                "{\"type\":\"generate\",\"count\":2,\"steps\":10}", "--wait"));
        String id = null;
        for (int i = 0; i < 100 && id == null; i++) { // the job appears, then the CLI's WebSocket opens
            Thread.sleep(100);
            var page = farm.get(ACME_KEY, "/v1/jobs?status=queued&limit=1").bodyAsString();
            var jobs = (List<?>) Wire.fromJson(page, Map.class).get("jobs");
            id = jobs.isEmpty() ? null : (String) ((Map<?, ?>) jobs.get(0)).get("id");
        }
        for (int i = 0; i < 100 && !farm.get(ACME_KEY, "/metrics").bodyAsString().contains("farm_websockets_open 1");
             i++) {
            Thread.sleep(100);
        }
        Instant t = Instant.now();
        farm.emit(StatusEvent.of(id, "acme", 0, t, JobStatus.RUNNING),
                ProgressEvent.of(id, "acme", 0, t, 5, 10, 500, 0, 2),
                ResultEvent.of(id, "acme", 0, t, ObjectKeys.MANIFEST));
        Run done = run.get(30, TimeUnit.SECONDS);
        assertEquals(0, done.status(), done.err());
        assertTrue(done.err().contains("step 5/10") && done.err().contains("succeeded"), done.err());
        assertEquals(JobStatus.SUCCEEDED, Wire.fromJson(done.out().trim(), JobDocument.class).status());
    }

    @Test
    @DisplayName("get downloads every manifest file and checks its size; a wrong size fails")
    void get(@TempDir Path dir) throws Exception {
        JobDocument doc = Wire.fromJson(cli("submit", "{\"type\":\"generate\",\"count\":2,\"steps\":10}").out().trim(),
                JobDocument.class);
        byte[] grid = "grid-bytes".getBytes(StandardCharsets.UTF_8);
        byte[] sample = "sample-0".getBytes(StandardCharsets.UTF_8);
        farm.objects.put(ObjectKeys.key("acme", doc.id(), ObjectKeys.GRID), grid, "image/png");
        farm.objects.put(ObjectKeys.key("acme", doc.id(), ObjectKeys.sample(0)), sample, "image/png");
        farm.objects.put(ObjectKeys.key("acme", doc.id(), ObjectKeys.MANIFEST), Wire.toBytes(new Manifest(List.of(
                new Manifest.File(ObjectKeys.GRID, grid.length, "image/png", null),
                new Manifest.File(ObjectKeys.sample(0), sample.length, "image/png", null)))), "application/json");
        Run ok = cli("get", doc.id(), "--out", dir.toString());
        assertEquals(0, ok.status(), ok.err());
        assertArrayEquals(grid, Files.readAllBytes(dir.resolve("grid.png")));
        assertArrayEquals(sample, Files.readAllBytes(dir.resolve("samples/000000.png")));

        farm.objects.put(ObjectKeys.key("acme", doc.id(), ObjectKeys.MANIFEST), Wire.toBytes(new Manifest(List.of(
                new Manifest.File(ObjectKeys.GRID, grid.length + 1, "image/png", null)))), "application/json");
        Run wrong = cli("get", doc.id(), "--out", dir.resolve("again").toString());
        assertEquals(1, wrong.status());
        assertTrue(wrong.err().contains("the manifest says"), wrong.err());
    }
}

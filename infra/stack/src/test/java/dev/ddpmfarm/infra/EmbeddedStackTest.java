package dev.ddpmfarm.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.common.model.PublishedModels;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.testing.TinyModel;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded stack as {@code farm up} runs it: real broker, real S3 server, gateway, data under one directory. */
class EmbeddedStackTest {
    @TempDir
    Path dir;

    @Test
    @DisplayName("without FARM_API_KEYS the stack generates a key that the gateway accepts; /health answers without one")
    void generatedKey() throws Exception {
        try (EmbeddedStack stack = EmbeddedStack.start(TinyFarm.config(dir), 0, 0)) {
            assertNotNull(stack.generatedKey());
            assertEquals(EmbeddedStack.LOCAL_TENANT, stack.generatedKey().tenant());
            HttpClient http = HttpClient.newHttpClient();
            assertEquals(200, http.send(HttpRequest.newBuilder(stack.url().resolve("/health")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, new FarmClient(stack.url(), "not-the-key-0123456789").send("GET", "/v1/jobs", null)
                    .statusCode());
            assertEquals(200, new FarmClient(stack.url(), stack.generatedKey().key()).send("GET", "/v1/jobs", null)
                    .statusCode());
            assertTrue(Files.isDirectory(dir.resolve("data/kafka")) && Files.isDirectory(dir.resolve("data/s3/farm")),
                    "broker and S3 server keep their data under FARM_DATA_DIR");
        }
    }

    @Test
    @DisplayName("a stack stopped and started again on the same data directory still has its jobs")
    void restart() throws Exception {
        FarmConfig config = TinyFarm.config(dir, "FARM_API_KEYS", "acme:acme-key-0123456789",
                "FARM_S3_ACCESS_KEY", "farm-test", "FARM_S3_SECRET_KEY", "farm-test-secret");
        JobDocument submitted;
        try (EmbeddedStack stack = EmbeddedStack.start(config, 0, 0)) {
            assertNull(stack.generatedKey());
            submitted = new FarmClient(stack.url(), "acme-key-0123456789").submit(
                    "{\"type\":\"generate\",\"model\":\"tiny\",\"count\":2,\"seed\":5,\"steps\":5,\"sampler\":\"ddim\"}");
        }
        try (EmbeddedStack stack = EmbeddedStack.start(config, 0, 0)) {
            JobDocument again = new FarmClient(stack.url(), "acme-key-0123456789").job(submitted.id());
            assertEquals(submitted.createdAt(), again.createdAt());
            assertEquals(5, again.seed());
        }
    }

    @Test
    @DisplayName("a model published to S3 under FARM_MODELS_PREFIX is mirrored and served by a farm that had none")
    void publishedModel() throws Exception {
        Path mirror = dir.resolve("mirror");
        FarmConfig config = TinyFarm.config(dir, "FARM_API_KEYS", "acme:acme-key-0123456789",
                "FARM_S3_ACCESS_KEY", "farm-test", "FARM_S3_SECRET_KEY", "farm-test-secret",
                "FARM_MODELS_DIR", mirror.toString(), "FARM_MODELS_PREFIX", "shared/models/",
                "FARM_MODELS_SYNC_SECONDS", "1");
        try (EmbeddedStack stack = EmbeddedStack.start(config, 0, 0)) {
            FarmClient client = new FarmClient(stack.url(), "acme-key-0123456789");
            String request = "{\"type\":\"generate\",\"model\":\"tiny\",\"count\":2,\"steps\":5,\"sampler\":\"ddim\"}";
            assertEquals(404, client.send("POST", "/v1/jobs", request).statusCode(), "no such model yet");

            new PublishedModels(S3ObjectStore.connect(stack.config()), "shared/models/")
                    .publish(dir.resolve("models").resolve(TinyModel.NAME));
            long deadline = System.nanoTime() + 30_000_000_000L;
            HttpResponse<String> submitted = client.send("POST", "/v1/jobs", request);
            while (submitted.statusCode() == 404 && System.nanoTime() < deadline) {
                Thread.sleep(500);
                submitted = client.send("POST", "/v1/jobs", request);
            }
            assertEquals(202, submitted.statusCode(), submitted.body());
            client.events(Wire.fromJson(submitted.body(), JobDocument.class).id()).until(JobStatus.SUCCEEDED);
            assertTrue(Files.isRegularFile(mirror.resolve(TinyModel.NAME).resolve(ModelCard.WEIGHTS_FILE_NAME)));
            assertTrue(client.send("GET", "/v1/models", null).body().contains("\"" + TinyModel.NAME + "\""));
        }
    }

    @Test
    @DisplayName("farm up refuses a broker or S3 address that is not on this machine")
    void loopbackOnly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbeddedStack.start(
                FarmConfig.from(Map.of("FARM_KAFKA_BOOTSTRAP", "kafka.example.com:9092"))));
        assertTrue(e.getMessage().contains("FARM_KAFKA_BOOTSTRAP"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EmbeddedStack.start(
                FarmConfig.from(Map.of("FARM_S3_ENDPOINT", "http://s3.example.com:9000"))));
        assertTrue(e.getMessage().contains("FARM_S3_ENDPOINT"), e.getMessage());
    }
}

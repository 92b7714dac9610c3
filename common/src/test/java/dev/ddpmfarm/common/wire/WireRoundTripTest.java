package dev.ddpmfarm.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class WireRoundTripTest {
    private static final Instant AT = Instant.parse("2026-11-25T10:15:30.123456Z");
    private static final String JOB = JobIds.next(AT, RandomGenerator.of("L64X128MixRandom"));
    private static final GenerateRequest GENERATE = new GenerateRequest(null, 600, Sampler.DDIM, 50, 0.5,
            VarianceType.POSTERIOR, 42L, 3, 2.0, 0.4, 0.9, 10, List.of(OutputFormat.PNG, OutputFormat.LABELS), 7, null,
            null, null);
    private static final ProgressiveRequest PROGRESSIVE = new ProgressiveRequest(null,
            new InputSpec(Dataset.FASHION_MNIST_TEST, List.of(0, 1, 2), null, null), List.of(1000, 500, 0), 4, 7L, null);
    private static final RateDistortionRequest RATE_DISTORTION = new RateDistortionRequest(null,
            new InputSpec(Dataset.FASHION_MNIST_TEST, null, 1000, null), TimestepSelection.ALL, 9L, null);

    static Stream<Object> messages() {
        return Stream.of(
                GENERATE, PROGRESSIVE, RATE_DISTORTION,
                new RateDistortionRequest(null, new InputSpec(null, null, null, List.of("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")),
                        new TimestepSelection(false, List.of(1, 10)), 1L, 0),
                new Task(1, JOB, "acme", 2, 3, 512, 600, GENERATE, 1, AT),
                new Task(1, JOB, "acme", 0, 1, 0, 3, PROGRESSIVE, 2, AT),
                Control.cancel(JOB, "acme", AT),
                new StatusEvent(1, JOB, "acme", 0, JobEvent.JOB_LEVEL, AT, JobStatus.QUEUED, null, null,
                        new Submission(GENERATE, 3, "key-1", "ab12")),
                new StatusEvent(1, JOB, "acme", 4, JobEvent.JOB_LEVEL, AT, JobStatus.FAILED,
                        new Progress(10, 50, 256, 600), "worker ran out of memory", null),
                ProgressEvent.of(JOB, "acme", 1, AT, 10, 50, 800, 0, 256),
                FrameEvent.of(JOB, "acme", 0, AT, 100, 900, ObjectKeys.frame(100, false), ObjectKeys.frame(100, true)),
                ResultEvent.of(JOB, "acme", 0, AT, ObjectKeys.MANIFEST).withSeq(9),
                ErrorEvent.of(JOB, "acme", 2, AT, "retries exhausted"),
                new Manifest(List.of(new Manifest.File("grid.png", 1234, "image/png", null))),
                new JobDocument(JOB, "acme", JobType.GENERATE, JobStatus.RUNNING, GENERATE, 42, 3,
                        new Progress(3, 50, 100, 600), AT, AT, null, null, JobDocument.Links.of(JOB)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messages")
    @DisplayName("every wire record survives JSON and back unchanged")
    void roundTrip(Object message) {
        Object back = Wire.fromBytes(Wire.toBytes(message), message.getClass());
        assertEquals(message, back);
        if (message instanceof JobEvent event) {
            assertEquals(event, Wire.fromBytes(Wire.toBytes(event), JobEvent.class), "read through the interface");
        }
    }

    @Test
    @DisplayName("events and requests carry their type, enums and instants in their wire spelling")
    void wireSpelling() {
        Map<?, ?> json = Wire.fromJson(Wire.toJson(new Task(1, JOB, "acme", 0, 1, 0, 1, RATE_DISTORTION, 1, AT)),
                Map.class);
        Map<?, ?> request = (Map<?, ?>) json.get("request");
        assertEquals("rate-distortion", request.get("type"));
        assertEquals("all", request.get("timesteps"));
        assertEquals("fashion-mnist:test", ((Map<?, ?>) request.get("input")).get("dataset"));
        assertEquals("2026-11-25T10:15:30.123456Z", json.get("submittedAt"));
        assertEquals(1, json.get("schemaVersion"));
        String status = Wire.toJson(StatusEvent.of(JOB, "acme", 0, AT, JobStatus.RUNNING));
        assertTrue(status.contains("\"type\":\"status\"") && status.contains("\"status\":\"running\""), status);
        assertTrue(Wire.toJson(GENERATE).contains("\"class\":3"), "the class label is spelled class");
    }

    @Test
    @DisplayName("an unknown field fails loudly and names the field")
    void unknownField() {
        String json = Wire.toJson(Control.cancel(JOB, "acme", AT)).replace("{", "{\"reason\":\"x\",");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Wire.fromJson(json, Control.class));
        assertTrue(e.getMessage().startsWith("reason:"), e.getMessage());
    }

    @Test
    @DisplayName("an unknown enum value fails loudly and names the field")
    void unknownEnum() {
        String json = Wire.toJson(StatusEvent.of(JOB, "acme", 0, AT, JobStatus.RUNNING)).replace("running", "paused");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Wire.fromJson(json, JobEvent.class));
        assertTrue(e.getMessage().startsWith("status:"), e.getMessage());
        String control = Wire.toJson(Control.cancel(JOB, "acme", AT)).replace("cancel", "pause");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Wire.fromJson(control, Control.class))
                .getMessage().startsWith("action:"));
    }

    @Test
    @DisplayName("a message from a newer schema version is refused")
    void newerSchema() {
        String json = Wire.toJson(Control.cancel(JOB, "acme", AT)).replace("\"schemaVersion\":1", "\"schemaVersion\":2");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Wire.fromJson(json, Control.class));
        assertTrue(e.getMessage().contains("schemaVersion"), e.getMessage());
    }

    @Test
    @DisplayName("a record rejects every bad member at once")
    void allErrorsOfARecord() {
        ValidationException e = assertThrows(ValidationException.class,
                () -> new Task(1, "not-an-id", "Bad Tenant", 3, 3, 10, 5, GENERATE, 0, null));
        assertEquals(List.of("jobId", "tenant", "shard", "start", "attempt", "submittedAt"),
                e.errors().stream().map(FieldError::field).toList());
    }

    @Test
    @DisplayName("a task must cover samples of its job and carry a resolved seed")
    void taskBounds() {
        assertThrows(ValidationException.class, () -> new Task(1, JOB, "acme", 0, 1, 0, 601, GENERATE, 1, AT));
        GenerateRequest unseeded = new GenerateRequest(null, 10, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null);
        ValidationException e = assertThrows(ValidationException.class,
                () -> new Task(1, JOB, "acme", 0, 1, 0, 10, unseeded, 1, AT));
        assertEquals("request.seed", e.errors().get(0).field());
        assertEquals(2, new Task(1, JOB, "acme", 0, 1, 0, 10, GENERATE, 1, AT).nextAttempt().attempt());
    }
}

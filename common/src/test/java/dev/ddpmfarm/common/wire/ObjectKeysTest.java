package dev.ddpmfarm.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObjectKeysTest {
    private static final String JOB = JobIds.next(Instant.parse("2026-11-25T00:00:00Z"), RandomGenerator.getDefault());

    @Test
    @DisplayName("keys follow SPEC §6: tenants/{tenant}/jobs/{id}/…, samples by six-digit global index")
    void layout() {
        assertEquals("tenants/acme/jobs/" + JOB + "/", ObjectKeys.jobPrefix("acme", JOB));
        assertEquals("tenants/acme/jobs/" + JOB + "/samples/000042.png",
                ObjectKeys.key("acme", JOB, ObjectKeys.sample(42)));
        assertEquals("frames/step-100-xt.png", ObjectKeys.frame(100, false));
        assertEquals("frames/step-100-x0.png", ObjectKeys.frame(100, true));
        assertEquals("shards/00003/manifest.json", ObjectKeys.shardManifest(3));
        assertEquals("checkpoints/shard-00003/", ObjectKeys.checkpoints(3));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"grid.png", "samples/000001.png", "frames/step-10-x0.png", "shards/00001/manifest.json",
            "rd.csv"})
    @DisplayName("ordinary result paths are safe")
    void safe(String path) {
        assertTrue(ObjectKeys.safeRelativePath(path));
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"", "..", "../x", "a/../../b", "a/..", "./a", "/etc/passwd", "a//b", "a/", "a\\..\\b",
            "%2e%2e/x", "..%2fx", ".hidden", "a/.b", "a b", "a\u0000b", "ä.png", "C:/x"})
    @DisplayName("traversal, absolute, encoded and odd paths are unsafe")
    void unsafe(String path) {
        assertFalse(ObjectKeys.safeRelativePath(path));
        assertThrows(IllegalArgumentException.class, () -> ObjectKeys.key("acme", JOB, path));
    }

    @Test
    @DisplayName("a tenant or job id that could escape the prefix is refused")
    void badOwner() {
        assertThrows(IllegalArgumentException.class, () -> ObjectKeys.jobPrefix("../other", JOB));
        assertThrows(IllegalArgumentException.class, () -> ObjectKeys.jobPrefix("acme", "../" + JOB));
    }

    @Test
    @DisplayName("job ids are UUIDv7 whose string order is the order of creation")
    void jobIdsSortByTime() {
        RandomGenerator random = RandomGenerator.getDefault();
        String earlier = JobIds.next(Instant.parse("2026-11-25T00:00:00.001Z"), random);
        String later = JobIds.next(Instant.parse("2026-11-25T00:00:00.002Z"), random);
        assertTrue(JobIds.valid(earlier) && JobIds.valid(later));
        assertTrue(earlier.compareTo(later) < 0);
        assertEquals(7, java.util.UUID.fromString(later).version());
        assertFalse(JobIds.valid("00000000-0000-4000-8000-000000000000"), "a v4 UUID is not a job id");
    }
}

package dev.ddpmfarm.gateway;

import static dev.ddpmfarm.gateway.GatewayFixture.ACME_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The submit endpoint under random bodies (issue 6, item 7, over HTTP): byte-level corruptions of valid requests never
 * get a 500, every refusal is problem+json, and exactly the accepted ones reach Kafka (the job list is rebuilt from the
 * events topic).
 */
@ExtendWith(VertxExtension.class)
class GatewayFuzzTest {
    private static final int BODIES = 400;
    private static final Set<Integer> EXPECTED = Set.of(202, 400, 404, 413, 422, 429);
    private static final String[] VALID = {
        "{\"type\":\"generate\",\"count\":4,\"sampler\":\"ddim\",\"steps\":5,\"class\":3,\"guidance\":2}",
        "{\"type\":\"generate\",\"perClass\":2,\"steps\":5,\"outputs\":[\"idx\",\"labels\"],\"minConfidence\":0.5}",
        "{\"type\":\"progressive\",\"input\":{\"dataset\":\"fashion-mnist:test\",\"indices\":[0]},"
                + "\"timesteps\":[1000,0],\"samplesPerTimestep\":1}",
        "{\"type\":\"rate-distortion\",\"input\":{\"dataset\":\"fashion-mnist:test\",\"count\":2},\"timesteps\":[5]}",
    };
    private static GatewayFixture farm;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        farm = new GatewayFixture(vertx, Map.of("FARM_MAX_ACTIVE_JOBS", "1000000", "FARM_RATE_LIMIT", "100000"));
    }

    @AfterAll
    static void stop() throws Exception {
        farm.close();
    }

    @Test
    @DisplayName("400 corrupted bodies: no 500, problem+json for every refusal, only accepted jobs reach Kafka")
    void corruptedBodies() throws Exception {
        SplittableRandom random = new SplittableRandom(6);
        int accepted = 0;
        for (int n = 0; n < BODIES; n++) {
            byte[] body = VALID[random.nextInt(VALID.length)].getBytes(StandardCharsets.UTF_8);
            for (int m = 1 + random.nextInt(4); m > 0 && body.length > 0; m--) {
                int at = random.nextInt(body.length);
                switch (random.nextInt(3)) {
                    case 0 -> body[at] = (byte) random.nextInt(256);
                    case 1 -> body[at] = (byte) "0123456789-.e,:{}[]\"".charAt(random.nextInt(20));
                    default -> body = Arrays.copyOf(body, at);
                }
            }
            HttpResponse<Buffer> r = farm.post(ACME_KEY, new String(body, StandardCharsets.ISO_8859_1));
            assertTrue(EXPECTED.contains(r.statusCode()), r.statusCode() + " for " + new String(body) + ": "
                    + r.bodyAsString());
            if (r.statusCode() == 202) {
                accepted++;
            } else {
                assertTrue(r.getHeader("Content-Type").startsWith("application/problem+json"), r.bodyAsString());
            }
        }
        int listed = -1;
        for (long deadline = System.nanoTime() + 20_000_000_000L; listed != accepted && System.nanoTime() < deadline; ) {
            listed = listed();
            Thread.sleep(100);
        }
        assertEquals(accepted, listed, "exactly the accepted jobs are on the events topic");
        assertTrue(accepted > 0 && accepted < BODIES, "the corruptions both keep and break requests: " + accepted);
    }

    /** The tenant's jobs, page by page. */
    private static int listed() throws Exception {
        int count = 0;
        String cursor = null;
        do {
            JsonObject page = new JsonObject(farm.get(ACME_KEY, "/v1/jobs?limit=100"
                    + (cursor == null ? "" : "&cursor=" + cursor)).bodyAsString());
            count += page.getJsonArray("jobs").size();
            cursor = page.getString("nextCursor");
        } while (cursor != null);
        return count;
    }
}

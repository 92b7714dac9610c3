package dev.ddpmfarm.gateway;

import static dev.ddpmfarm.gateway.GatewayFixture.ACME_KEY;
import static dev.ddpmfarm.gateway.GatewayFixture.GLOBEX_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.wire.Topics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** The gateway at its limits: a full queue, and a broker that is gone (the last test: it stops the broker). */
@ExtendWith(VertxExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayLimitsTest {
    private static final String JOB = "{\"type\":\"generate\",\"count\":1,\"steps\":5}";
    private static GatewayFixture farm;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        farm = new GatewayFixture(vertx, Map.of("FARM_MAX_ACTIVE_JOBS", "2", "FARM_SUBMIT_TIMEOUT_MS", "1500",
                "FARM_RATE_LIMIT", "5"));
    }

    @AfterAll
    static void stop() throws Exception {
        farm.close();
    }

    @Test
    @Order(1)
    @DisplayName("a tenant with the maximum of unfinished jobs gets 429 with Retry-After; other tenants do not")
    void queueFull() throws Exception {
        assertEquals(202, farm.post(ACME_KEY, JOB).statusCode());
        assertEquals(202, farm.post(ACME_KEY, JOB).statusCode());
        long tasks = farm.endOffset(Topics.JOBS);
        HttpResponse<Buffer> full = farm.post(ACME_KEY, JOB);
        assertEquals(429, full.statusCode());
        assertTrue(Integer.parseInt(full.getHeader("Retry-After")) > 0);
        assertEquals(tasks, farm.endOffset(Topics.JOBS));
        assertEquals(202, farm.post(GLOBEX_KEY, JOB).statusCode());
    }

    @Test
    @Order(2)
    @DisplayName("a key over FARM_RATE_LIMIT requests a second gets 429 with Retry-After; other keys do not")
    void rateLimited() throws Exception {
        Thread.sleep(1100);
        HttpResponse<Buffer> r = null;
        for (int i = 0; i < 50 && (r == null || r.statusCode() != 429); i++) {
            r = farm.get(ACME_KEY, "/v1/jobs");
        }
        assertEquals(429, r.statusCode(), "50 requests at once exceed 5 a second");
        assertTrue(Integer.parseInt(r.getHeader("Retry-After")) >= 1);
        assertTrue(r.bodyAsString().contains("rate-limited"), r.bodyAsString());
        assertEquals(200, farm.get(GLOBEX_KEY, "/v1/jobs").statusCode());
        Thread.sleep(1100);
    }

    @Test
    @Order(3)
    @DisplayName("when the broker cannot store a job the client gets 503 with Retry-After, never 202")
    void brokerDown() throws Exception {
        farm.kafka.close();
        long started = System.nanoTime();
        HttpResponse<Buffer> r = farm.post(GLOBEX_KEY, JOB);
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertTrue(Integer.parseInt(r.getHeader("Retry-After")) > 0);
        assertTrue(System.nanoTime() - started < 15_000_000_000L, "answered within the submit timeout");
    }
}

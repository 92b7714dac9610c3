package dev.ddpmfarm.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    @DisplayName("a tenant gets `rate` requests at once, then one per 1/rate s; tenants do not share a bucket")
    void tokenBucket() {
        RateLimiter limiter = new RateLimiter(4);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, limiter.retryAfterSeconds("acme", 0));
        }
        assertEquals(1, limiter.retryAfterSeconds("acme", 0), "the fifth at once waits");
        assertEquals(0, limiter.retryAfterSeconds("globex", 0));
        assertEquals(0, limiter.retryAfterSeconds("acme", SECOND / 4), "a quarter second brings one token");
        assertEquals(1, limiter.retryAfterSeconds("acme", SECOND / 4));
        for (int i = 0; i < 4; i++) {
            assertEquals(0, limiter.retryAfterSeconds("acme", 10 * SECOND), "a quiet spell refills up to rate, no more");
        }
        assertEquals(1, limiter.retryAfterSeconds("acme", 10 * SECOND));
    }
}

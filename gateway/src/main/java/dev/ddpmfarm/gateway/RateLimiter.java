package dev.ddpmfarm.gateway;

import java.util.HashMap;
import java.util.Map;

/**
 * A token bucket per tenant: on average {@code rate} requests a second, and up to {@code rate} at once after a quiet
 * second. Shared by the API verticle's instances, one per event loop, so a take is synchronized; it holds one bucket
 * per tenant that has made a request, and tenants are the configured keys' owners.
 */
final class RateLimiter {
    private final double rate;
    private final Map<String, double[]> buckets = new HashMap<>();

    RateLimiter(double rate) {
        this.rate = rate;
    }

    /** Takes a token of {@code tenant}'s bucket: 0 when the request may go on, else the seconds until it may. */
    synchronized long retryAfterSeconds(String tenant, long nowNanos) {
        double[] bucket = buckets.computeIfAbsent(tenant, t -> new double[] {rate, nowNanos});
        bucket[0] = Math.min(rate, bucket[0] + (nowNanos - bucket[1]) / 1e9 * rate);
        bucket[1] = nowNanos;
        if (bucket[0] >= 1) {
            bucket[0] -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - bucket[0]) / rate));
    }
}

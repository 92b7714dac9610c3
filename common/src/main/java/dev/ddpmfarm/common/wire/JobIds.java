package dev.ddpmfarm.common.wire;

import java.time.Instant;
import java.util.UUID;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Job ids: UUIDs of version 7 (48-bit Unix milliseconds, then random bits), so that the string order of ids is the
 * order of submission and a list can page by id.
 */
public final class JobIds {
    private static final Pattern FORMAT = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    private JobIds() {
    }

    /** A new id for a job submitted at {@code now}. */
    public static String next(Instant now, RandomGenerator random) {
        long msb = (now.toEpochMilli() << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
        long lsb = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(msb, lsb).toString();
    }

    /** Whether {@code id} has the form of a job id (lower-case UUIDv7). */
    public static boolean valid(String id) {
        return id != null && FORMAT.matcher(id).matches();
    }
}

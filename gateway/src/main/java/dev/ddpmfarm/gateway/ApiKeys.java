package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.config.FarmConfig.ApiKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Optional;

/**
 * The tenants' API keys, kept only as SHA-256 hashes. A presented key is hashed and compared with every stored hash
 * in constant time ({@link MessageDigest#isEqual}), without stopping at a match, so the response time tells nothing
 * about which or how many bytes matched.
 */
final class ApiKeys {
    private record Entry(byte[] hash, String tenant) {
    }

    private final List<Entry> entries;

    ApiKeys(List<ApiKey> keys) {
        this.entries = keys.stream().map(k -> new Entry(sha256(k.key()), k.tenant())).toList();
    }

    /** The tenant that owns {@code presented}, if any. */
    Optional<String> tenantOf(String presented) {
        if (presented == null || presented.isEmpty()) {
            return Optional.empty();
        }
        byte[] hash = sha256(presented);
        String tenant = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.hash(), hash)) {
                tenant = e.tenant();
            }
        }
        return Optional.ofNullable(tenant);
    }

    static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }
}

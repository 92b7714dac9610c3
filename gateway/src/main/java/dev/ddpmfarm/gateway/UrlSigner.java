package dev.ddpmfarm.gateway;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived file URLs that work without a header ({@code <img src>}, SPEC §3): {@code ?exp=&sig=} where sig is
 * HMAC-SHA256 over tenant, job, path and expiry (epoch seconds), base64url. A signature is bound to one file of one
 * job of one tenant and expires after the configured lifetime.
 */
final class UrlSigner {
    private final SecretKeySpec key;
    private final Duration ttl;

    UrlSigner(byte[] secret, Duration ttl) {
        this.key = new SecretKeySpec(secret.clone(), "HmacSHA256");
        this.ttl = ttl;
    }

    /** {@code /v1/jobs/{id}/files/{path}?exp=…&sig=…}, valid from {@code now} for the lifetime. */
    /** How long a URL stays valid. */
    Duration ttl() {
        return ttl;
    }

    String url(String tenant, String jobId, String path, Instant now) {
        long exp = now.plus(ttl).getEpochSecond();
        return "/v1/jobs/" + jobId + "/files/" + path + "?exp=" + exp + "&sig=" + sign(tenant, jobId, path, exp);
    }

    /** Whether {@code sig} signs this file until {@code exp}, and {@code exp} has not passed. */
    boolean valid(String tenant, String jobId, String path, String exp, String sig, Instant now) {
        long expiry;
        try {
            expiry = Long.parseLong(exp);
        } catch (NumberFormatException e) {
            return false;
        }
        if (sig == null || expiry < now.getEpochSecond()) {
            return false;
        }
        return MessageDigest.isEqual(sign(tenant, jobId, path, expiry).getBytes(StandardCharsets.US_ASCII),
                sig.getBytes(StandardCharsets.US_ASCII));
    }

    private String sign(String tenant, String jobId, String path, long exp) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] sig = mac.doFinal((tenant + "\n" + jobId + "\n" + path + "\n" + exp)
                    .getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}

package dev.ddpmfarm.common.wire;

import java.util.regex.Pattern;

/**
 * The object-store layout of SPEC §6: everything of a job lives under {@code tenants/{tenant}/jobs/{id}/}. Keys are
 * deterministic, so a redelivered task overwrites instead of duplicating. Methods taking a job return full keys;
 * the constants and {@code relative} methods are paths under the job's prefix (what events and manifests carry).
 */
public final class ObjectKeys {
    public static final String REQUEST = "request.json";
    public static final String STATUS = "status.json";
    public static final String MANIFEST = "manifest.json";
    public static final String SAMPLES_NPY = "samples.npy";
    public static final String GRID = "grid.png";
    public static final String LABELS_CSV = "labels.csv";
    public static final String RD_JSON = "rd.json";
    public static final String RD_CSV = "rd.csv";
    public static final String RD_PNG = "rd.png";
    public static final String CHECKPOINTS = "checkpoints/";

    /** A relative path a client may ask for: segments of {@code [A-Za-z0-9_.-]}, none starting with a dot. */
    private static final Pattern SAFE_PATH =
            Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}){0,7}");

    private ObjectKeys() {
    }

    /** {@code tenants/{tenant}/jobs/{id}/} */
    public static String jobPrefix(String tenant, String jobId) {
        if (!Tenants.valid(tenant)) {
            throw new IllegalArgumentException("invalid tenant " + tenant);
        }
        if (!JobIds.valid(jobId)) {
            throw new IllegalArgumentException("invalid job id " + jobId);
        }
        return "tenants/" + tenant + "/jobs/" + jobId + "/";
    }

    /** The full key of {@code relativePath} under the job's prefix; the path must be {@link #safeRelativePath}. */
    public static String key(String tenant, String jobId, String relativePath) {
        if (!safeRelativePath(relativePath)) {
            throw new IllegalArgumentException("unsafe path " + relativePath);
        }
        return jobPrefix(tenant, jobId) + relativePath;
    }

    /**
     * Whether a client-supplied path stays inside a job's prefix: no {@code ..} or {@code .} segment, no leading or
     * doubled slash, no backslash, no percent sign (encoded traversal), no control or non-ASCII character.
     */
    public static boolean safeRelativePath(String path) {
        return path != null && SAFE_PATH.matcher(path).matches();
    }

    /** {@code frames/step-{step}-xt.png} or {@code -x0.png}: the x_t or x̂_0 grid stored at a reverse step. */
    public static String frame(int step, boolean x0) {
        return "frames/step-" + step + (x0 ? "-x0.png" : "-xt.png");
    }

    /** {@code samples/{index:06d}.png}, by global sample index. */
    public static String sample(int index) {
        return String.format("samples/%06d.png", index);
    }

    /** Where one shard of a sharded job keeps its own files: {@code shards/{shard:05d}/}. */
    public static String shardDir(int shard) {
        return String.format("shards/%05d/", shard);
    }

    /** The manifest of one shard of a sharded job: {@code shards/{shard:05d}/manifest.json}. */
    public static String shardManifest(int shard) {
        return shardDir(shard) + MANIFEST;
    }

    /** The prefix under which a shard keeps its resumable x_t checkpoints. */
    public static String checkpoints(int shard) {
        return CHECKPOINTS + String.format("shard-%05d/", shard);
    }
}

package dev.ddpmfarm.common.wire;

import java.util.List;
import java.util.Objects;

/**
 * {@code manifest.json} (SPEC §6) and the body of {@code GET /v1/jobs/{id}/results}: every result file. Stored
 * manifests have no URLs; the gateway adds signed ones.
 *
 * @param files the result files, in path order
 */
public record Manifest(List<File> files) {
    public Manifest {
        files = List.copyOf(files);
    }

    /**
     * One result file.
     *
     * @param path      relative to the job's prefix
     * @param size      bytes
     * @param mediaType e.g. {@code image/png}
     * @param url       where to download it, or null in the stored manifest
     */
    public record File(String path, long size, String mediaType, String url) {
        public File {
            if (!ObjectKeys.safeRelativePath(path)) {
                throw new IllegalArgumentException("path must be a safe relative path, was " + path);
            }
            if (size < 0) {
                throw new IllegalArgumentException("size must be >= 0, was " + size);
            }
            Objects.requireNonNull(mediaType, "mediaType");
        }

        public File withUrl(String newUrl) {
            return new File(path, size, mediaType, newUrl);
        }
    }
}

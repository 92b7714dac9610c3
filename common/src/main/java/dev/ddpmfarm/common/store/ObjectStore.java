package dev.ddpmfarm.common.store;

import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The object store port (S3 / MinIO in production, {@link InMemoryObjectStore} in unit tests).
 * Keys are deterministic per job (SPEC §6), so a redelivered task overwrites instead of duplicating.
 * Every method may throw {@link StoreException}; {@link StoreException#retriable()} tells retry from give-up.
 */
public interface ObjectStore {

    /** Stores {@code data} under {@code key}, replacing what was there; the object appears whole or not at all. */
    void put(String key, byte[] data, String mediaType);

    /** The object's bytes, or empty when there is no such key. */
    Optional<byte[]> get(String key);

    /** Opens the object for streaming, or empty when there is no such key. The caller closes the stream. */
    Optional<InputStream> open(String key);

    /** Size and media type of the object, or empty when there is no such key. */
    Optional<ObjectInfo> stat(String key);

    /** Every object whose key starts with {@code prefix}, in key order. */
    List<ObjectInfo> list(String prefix);

    /** Removes the object; no error when it does not exist. */
    void delete(String key);

    /** A presigned GET URL valid for {@code ttl}, or empty where the store cannot presign (the in-memory fake). */
    Optional<URI> presignGet(String key, Duration ttl);

    /** Metadata of one stored object. */
    record ObjectInfo(String key, long size, String mediaType) {
        public ObjectInfo {
            if (key == null || key.isEmpty()) {
                throw new IllegalArgumentException("key must not be empty");
            }
            if (size < 0) {
                throw new IllegalArgumentException("size must be >= 0, was " + size);
            }
        }
    }
}

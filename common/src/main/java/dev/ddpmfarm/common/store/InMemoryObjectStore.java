package dev.ddpmfarm.common.store;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The in-memory fake of {@link ObjectStore} for unit tests; integration tests use the real S3 server. It can be
 * switched off to stand for a store that is restarting: every call then fails with a retriable {@link StoreException}.
 */
public final class InMemoryObjectStore implements ObjectStore {
    private record Entry(byte[] data, String mediaType) {
    }

    private final ConcurrentSkipListMap<String, Entry> objects = new ConcurrentSkipListMap<>();
    private volatile boolean available = true;

    /** Switches the store off (every call fails, retriably) or on again; the objects stay. */
    public void setAvailable(boolean available) {
        this.available = available;
    }

    private ConcurrentSkipListMap<String, Entry> objects() {
        if (!available) {
            throw new StoreException("the in-memory store is switched off", null, true);
        }
        return objects;
    }

    @Override
    public void put(String key, byte[] data, String mediaType) {
        objects().put(key, new Entry(data.clone(), mediaType));
    }

    @Override
    public Optional<byte[]> get(String key) {
        return Optional.ofNullable(objects().get(key)).map(e -> e.data().clone());
    }

    @Override
    public Optional<InputStream> open(String key) {
        return get(key).map(ByteArrayInputStream::new);
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        return Optional.ofNullable(objects().get(key)).map(e -> new ObjectInfo(key, e.data().length, e.mediaType()));
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        return objects().subMap(prefix, prefix + Character.MAX_VALUE).entrySet().stream()
                .map(e -> new ObjectInfo(e.getKey(), e.getValue().data().length, e.getValue().mediaType()))
                .toList();
    }

    @Override
    public void delete(String key) {
        objects().remove(key);
    }

    @Override
    public Optional<URI> presignGet(String key, Duration ttl) {
        return Optional.empty();
    }
}

package dev.ddpmfarm.clients.s3;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.store.StoreException;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.ServerException;
import io.minio.http.Method;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The {@link ObjectStore} on S3 or MinIO through the MinIO Java SDK. A PUT is atomic on S3, so an object appears
 * whole or not at all. Network faults and 5xx answers are {@link StoreException#retriable() retriable}; a missing
 * key is an empty result, not an error; other S3 errors (access denied, bad bucket) are permanent.
 */
public final class S3ObjectStore implements ObjectStore {
    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchObject");
    private static final String DEFAULT_MEDIA_TYPE = "application/octet-stream";

    private final MinioClient client;
    private final String bucket;

    private S3ObjectStore(MinioClient client, String bucket) {
        this.client = client;
        this.bucket = bucket;
    }

    /** Connects to the store of {@code FARM_S3_*} and creates its bucket when it does not exist yet. */
    public static S3ObjectStore connect(FarmConfig config) {
        return connect(config.get(FarmConfig.S3_ENDPOINT), config.get(FarmConfig.S3_ACCESS_KEY),
                config.get(FarmConfig.S3_SECRET_KEY), config.get(FarmConfig.S3_REGION), config.get(FarmConfig.S3_BUCKET));
    }

    /** Connects to {@code endpoint} and creates {@code bucket} when it does not exist yet. */
    public static S3ObjectStore connect(URI endpoint, String accessKey, String secretKey, String region, String bucket) {
        MinioClient client = MinioClient.builder().endpoint(endpoint.toString()).credentials(accessKey, secretKey)
                .region(region).build();
        S3ObjectStore store = new S3ObjectStore(client, bucket);
        store.call("create bucket " + bucket, () -> {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
            return null;
        });
        return store;
    }

    @Override
    public void put(String key, byte[] data, String mediaType) {
        call("put " + key, () -> client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                .stream(new ByteArrayInputStream(data), data.length, -1)
                .contentType(mediaType == null ? DEFAULT_MEDIA_TYPE : mediaType).build()));
    }

    @Override
    public Optional<byte[]> get(String key) {
        return open(key).map(in -> {
            try (in) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new StoreException("get " + key + ": " + e.getMessage(), e, true);
            }
        });
    }

    @Override
    public Optional<InputStream> open(String key) {
        return ifPresent("get " + key, () -> client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build()));
    }

    @Override
    public Optional<ObjectInfo> stat(String key) {
        return ifPresent("stat " + key, () -> {
            StatObjectResponse s = client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
            return new ObjectInfo(key, s.size(), s.contentType());
        });
    }

    /** Listing does not return content types; they are guessed from the key's extension. */
    @Override
    public List<ObjectInfo> list(String prefix) {
        return call("list " + prefix, () -> {
            List<ObjectInfo> out = new ArrayList<>();
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix)
                    .recursive(true).build())) {
                Item item = r.get();
                String guessed = URLConnection.guessContentTypeFromName(item.objectName());
                out.add(new ObjectInfo(item.objectName(), item.size(), guessed == null ? DEFAULT_MEDIA_TYPE : guessed));
            }
            out.sort(Comparator.comparing(ObjectInfo::key));
            return out;
        });
    }

    @Override
    public void delete(String key) {
        call("delete " + key, () -> {
            client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
            return null;
        });
    }

    @Override
    public Optional<URI> presignGet(String key, Duration ttl) {
        return Optional.of(call("presign " + key, () -> URI.create(client.getPresignedObjectUrl(
                GetPresignedObjectUrlArgs.builder().method(Method.GET).bucket(bucket).object(key)
                        .expiry((int) Math.max(1, ttl.toSeconds()), TimeUnit.SECONDS).build()))));
    }

    private interface S3Call<T> {
        T run() throws Exception;
    }

    private <T> Optional<T> ifPresent(String what, S3Call<T> body) {
        try {
            return Optional.of(body.run());
        } catch (ErrorResponseException e) {
            if (MISSING.contains(e.errorResponse().code())) {
                return Optional.empty();
            }
            throw failure(what, e);
        } catch (Exception e) {
            throw failure(what, e);
        }
    }

    private <T> T call(String what, S3Call<T> body) {
        try {
            return body.run();
        } catch (Exception e) {
            throw failure(what, e);
        }
    }

    /** Retriable: I/O faults, S3 5xx and throttling; permanent: everything the request itself got wrong. */
    private StoreException failure(String what, Exception e) {
        boolean retriable = e instanceof IOException || e instanceof ServerException
                || e instanceof ErrorResponseException r && (r.response() == null || r.response().code() >= 500
                || r.response().code() == 429);
        return new StoreException("S3 " + what + " in bucket " + bucket + " failed: " + e.getMessage(), e, retriable);
    }
}

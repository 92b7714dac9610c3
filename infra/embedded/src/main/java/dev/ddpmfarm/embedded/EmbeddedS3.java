package dev.ddpmfarm.embedded;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 server on loopback: S3Proxy serving the S3 protocol (signature v2 and v4) over jclouds' filesystem
 * backend, one directory per bucket under {@code dir}. No MinIO binary can be installed here (PLATFORM-NOTES); the
 * MinIO SDK talks to this exactly as to MinIO.
 */
public final class EmbeddedS3 implements AutoCloseable {
    private final S3Proxy proxy;
    private final BlobStoreContext context;
    private final String accessKey;
    private final String secretKey;

    private EmbeddedS3(S3Proxy proxy, BlobStoreContext context, String accessKey, String secretKey) {
        this.proxy = proxy;
        this.context = context;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /** Starts a server on {@code 127.0.0.1:port} (0 picks a free port) with fresh random credentials. */
    public static EmbeddedS3 start(Path dir, int port) throws Exception {
        return start(dir, port, "farm" + randomHex(8), randomHex(20));
    }

    /**
     * Starts a server on {@code 127.0.0.1:port} (0 picks a free port) that accepts requests signed with
     * {@code accessKey} and {@code secretKey}. Buckets and objects already under {@code dir} are served as they are.
     */
    public static EmbeddedS3 start(Path dir, int port, String accessKey, String secretKey) throws Exception {
        if (accessKey.isEmpty() || secretKey.isEmpty()) {
            throw new IllegalArgumentException("the S3 server needs an access key and a secret key");
        }
        Files.createDirectories(dir);
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        BlobStoreContext context = ContextBuilder.newBuilder("filesystem").overrides(properties)
                .buildView(BlobStoreContext.class);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("S3Proxy did not start within 30 s (state " + proxy.getState() + ")");
                }
                Thread.sleep(5);
            }
        } catch (Exception e) {
            context.close();
            throw e;
        }
        return new EmbeddedS3(proxy, context, accessKey, secretKey);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.stop();
        } finally {
            context.close();
        }
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}

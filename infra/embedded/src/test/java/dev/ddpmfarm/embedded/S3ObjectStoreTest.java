package dev.ddpmfarm.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.store.ObjectStore.ObjectInfo;
import dev.ddpmfarm.common.store.StoreException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MinIO SDK adapter against a real S3 server on loopback (S3Proxy), no fakes. */
class S3ObjectStoreTest {
    @TempDir
    static Path dir;
    static EmbeddedS3 s3;
    static S3ObjectStore store;

    @BeforeAll
    static void start() throws Exception {
        s3 = EmbeddedS3.start(dir, 0);
        store = S3ObjectStore.connect(s3.endpoint(), s3.accessKey(), s3.secretKey(), "us-east-1", "farm");
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
    }

    @Test
    @DisplayName("put, get, stat, list and delete round-trip bytes and media types; a missing key is empty")
    void roundTrip() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        store.put("tenants/a/jobs/1/grid.png", png, "image/png");
        store.put("tenants/a/jobs/1/manifest.json", "{}".getBytes(StandardCharsets.UTF_8), "application/json");
        store.put("tenants/a/jobs/2/grid.png", png, "image/png");

        assertArrayEquals(png, store.get("tenants/a/jobs/1/grid.png").orElseThrow());
        assertEquals(new ObjectInfo("tenants/a/jobs/1/grid.png", 4, "image/png"),
                store.stat("tenants/a/jobs/1/grid.png").orElseThrow());
        List<ObjectInfo> listed = store.list("tenants/a/jobs/1/");
        assertEquals(List.of("tenants/a/jobs/1/grid.png", "tenants/a/jobs/1/manifest.json"),
                listed.stream().map(ObjectInfo::key).toList());
        assertEquals("image/png", listed.get(0).mediaType());

        store.delete("tenants/a/jobs/1/grid.png");
        assertTrue(store.get("tenants/a/jobs/1/grid.png").isEmpty());
        assertTrue(store.stat("tenants/a/jobs/1/grid.png").isEmpty());
        assertTrue(store.open("tenants/a/jobs/nope").isEmpty());
        store.delete("tenants/a/jobs/nope");
    }

    @Test
    @DisplayName("a presigned URL downloads the object over plain HTTP without credentials")
    void presigned() throws Exception {
        store.put("public/hello.txt", "hello".getBytes(StandardCharsets.UTF_8), "text/plain");
        URI url = store.presignGet("public/hello.txt", Duration.ofMinutes(5)).orElseThrow();
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertEquals("hello", response.body());
    }

    @Test
    @DisplayName("a server started again on the same directory with the same credentials serves the stored objects")
    void restart(@TempDir Path own) throws Exception {
        byte[] data = "kept".getBytes(StandardCharsets.UTF_8);
        int port;
        try (EmbeddedS3 first = EmbeddedS3.start(own, 0, "farmkey", "farmsecret")) {
            port = first.endpoint().getPort();
            S3ObjectStore.connect(first.endpoint(), "farmkey", "farmsecret", "us-east-1", "farm")
                    .put("a/b.bin", data, "application/octet-stream");
        }
        try (EmbeddedS3 second = EmbeddedS3.start(own, port, "farmkey", "farmsecret")) {
            assertEquals(port, second.endpoint().getPort());
            assertArrayEquals(data, S3ObjectStore.connect(second.endpoint(), "farmkey", "farmsecret", "us-east-1",
                    "farm").get("a/b.bin").orElseThrow());
        }
    }

    @Test
    @DisplayName("wrong credentials are a permanent error; an unreachable server is a retriable one")
    void errors() throws Exception {
        StoreException denied = assertThrows(StoreException.class,
                () -> S3ObjectStore.connect(s3.endpoint(), s3.accessKey(), "wrong", "us-east-1", "farm"));
        assertFalse(denied.retriable(), denied.getMessage());
        StoreException down = assertThrows(StoreException.class,
                () -> S3ObjectStore.connect(URI.create("http://127.0.0.1:9"), "a", "b", "us-east-1", "farm"));
        assertTrue(down.retriable(), down.getMessage());
    }
}

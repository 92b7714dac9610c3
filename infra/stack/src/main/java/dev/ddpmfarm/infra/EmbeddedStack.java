package dev.ddpmfarm.infra;

import dev.ddpmfarm.clients.kafka.FarmTopics;
import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.config.FarmConfig.ApiKey;
import dev.ddpmfarm.embedded.EmbeddedKafka;
import dev.ddpmfarm.embedded.EmbeddedS3;
import dev.ddpmfarm.gateway.Gateway;
import dev.ddpmfarm.worker.farm.Worker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole farm in one JVM (SPEC §2, embedded default): a real KRaft broker and an S3 server on loopback keeping
 * their data under {@code FARM_DATA_DIR} ({@code kafka/}, {@code s3/}), the farm's topics and bucket, the gateway and
 * one worker. Components start in that order and stop in the reverse one.
 * <p>
 * The broker listens on the port of {@code FARM_KAFKA_BOOTSTRAP} and the S3 server on the port of
 * {@code FARM_S3_ENDPOINT} (both must name this machine), so a {@code scripts/farm worker} started with the same
 * variables joins this farm. S3 credentials and the API key are generated when {@code FARM_S3_ACCESS_KEY} /
 * {@code FARM_S3_SECRET_KEY} and {@code FARM_API_KEYS} are unset.
 */
public final class EmbeddedStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);
    /** The tenant of the API key generated when {@code FARM_API_KEYS} is unset. */
    public static final String LOCAL_TENANT = "local";
    private static final long STOP_TIMEOUT_SECONDS = 60;

    private final FarmConfig config;
    private final ApiKey generatedKey;
    private final int gatewayPort;
    private final int workerMetricsPort;
    private final Deque<AutoCloseable> running;

    private EmbeddedStack(FarmConfig config, ApiKey generatedKey, int gatewayPort, int workerMetricsPort,
                          Deque<AutoCloseable> running) {
        this.config = config;
        this.generatedKey = generatedKey;
        this.gatewayPort = gatewayPort;
        this.workerMetricsPort = workerMetricsPort;
        this.running = running;
    }

    /** Starts the farm with the broker and the S3 server on the ports that {@code config} names. */
    public static EmbeddedStack start(FarmConfig config) throws Exception {
        return start(config, kafkaPort(config), s3Port(config));
    }

    /** The port of the first {@code FARM_KAFKA_BOOTSTRAP} server, where an embedded broker listens (loopback only). */
    static int kafkaPort(FarmConfig config) {
        String kafka = config.get(FarmConfig.KAFKA_BOOTSTRAP).split(",")[0].trim();
        int colon = kafka.lastIndexOf(':');
        return loopbackPort(FarmConfig.KAFKA_BOOTSTRAP, kafka.substring(0, colon),
                Integer.parseInt(kafka.substring(colon + 1)));
    }

    /** The port of {@code FARM_S3_ENDPOINT}, where an embedded S3 server listens (loopback only). */
    static int s3Port(FarmConfig config) {
        URI s3 = config.get(FarmConfig.S3_ENDPOINT);
        return loopbackPort(FarmConfig.S3_ENDPOINT, s3.getHost(), s3.getPort() == -1 ? 80 : s3.getPort());
    }

    /** Starts the farm with the broker on {@code kafkaPort} and the S3 server on {@code s3Port} (0: free ports). */
    public static EmbeddedStack start(FarmConfig config, int kafkaPort, int s3Port) throws Exception {
        Path data = config.get(FarmConfig.DATA_DIR).toAbsolutePath();
        Deque<AutoCloseable> running = new ArrayDeque<>();
        try {
            long t0 = System.nanoTime();
            EmbeddedKafka kafka = EmbeddedKafka.start(data.resolve("kafka"), kafkaPort);
            running.push(kafka);
            String accessKey = config.get(FarmConfig.S3_ACCESS_KEY);
            EmbeddedS3 s3 = accessKey.isEmpty() ? EmbeddedS3.start(data.resolve("s3"), s3Port)
                    : EmbeddedS3.start(data.resolve("s3"), s3Port, accessKey, config.get(FarmConfig.S3_SECRET_KEY));
            running.push(s3);
            ApiKey generated = config.get(FarmConfig.API_KEYS).isEmpty()
                    ? new ApiKey(LOCAL_TENANT, randomHex(16)) : null;
            FarmConfig effective = config.with(FarmConfig.KAFKA_BOOTSTRAP, kafka.bootstrap())
                    .with(FarmConfig.S3_ENDPOINT, s3.endpoint().toString())
                    .with(FarmConfig.S3_ACCESS_KEY, s3.accessKey())
                    .with(FarmConfig.S3_SECRET_KEY, s3.secretKey());
            if (generated != null) {
                effective = effective.with(FarmConfig.API_KEYS, generated.tenant() + ":" + generated.key());
            }
            LOG.info("Kafka on {}, S3 on {}, data in {} ({} ms)", kafka.bootstrap(), s3.endpoint(), data,
                    (System.nanoTime() - t0) / 1_000_000);
            try (Admin admin = KafkaClients.admin(effective, "farm-up")) {
                FarmTopics.ensure(admin, effective.get(FarmConfig.KAFKA_REPLICATION));
            }
            S3ObjectStore objects = S3ObjectStore.connect(effective);
            Vertx vertx = Vertx.vertx();
            running.push(() -> await(vertx.close()));
            Gateway gateway = await(Gateway.start(vertx, effective, objects));
            running.push(() -> await(gateway.close()));
            Worker worker = await(Worker.deploy(vertx, effective, objects));
            running.push(() -> await(worker.close()));
            LOG.info("farm up in {} ms", (System.nanoTime() - t0) / 1_000_000);
            return new EmbeddedStack(effective, generated, gateway.port(), worker.metricsPort(), running);
        } catch (Exception e) {
            stopAll(running, e);
            throw e;
        }
    }

    /** The configuration the components run with: the real ports, credentials and API keys. */
    public FarmConfig config() {
        return config;
    }

    /** The gateway's port. */
    public int gatewayPort() {
        return gatewayPort;
    }

    /** The gateway's base URL on this machine. */
    public URI url() {
        return URI.create("http://localhost:" + gatewayPort);
    }

    /** The worker's metrics URL, or null when it serves none (its port was taken). */
    public URI workerMetricsUrl() {
        return workerMetricsPort < 0 ? null : URI.create("http://localhost:" + workerMetricsPort + "/metrics");
    }

    /** The API key generated because {@code FARM_API_KEYS} was unset, or null when keys were given. */
    public ApiKey generatedKey() {
        return generatedKey;
    }

    /** Stops every component, newest first; a second call does nothing. */
    @Override
    public synchronized void close() throws Exception {
        stopAll(running, null);
    }

    private static void stopAll(Deque<AutoCloseable> running, Exception failure) throws Exception {
        Exception first = failure;
        while (!running.isEmpty()) {
            try {
                running.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (failure == null && first != null) {
            throw first;
        }
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** {@code port}, once {@code host} (the value of {@code setting}) is checked to name this machine. */
    private static int loopbackPort(FarmConfig.Key<?> setting, String host, int port) {
        if (!List.of("localhost", "127.0.0.1", "[::1]").contains(host)) {
            throw new IllegalArgumentException("the embedded stack runs its own server on this machine, so "
                    + setting.name() + " must name localhost or 127.0.0.1 (it gives the port), was host " + host);
        }
        return port;
    }

    static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.clients.kafka.FarmTopics;
import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.ModelRegistry;
import dev.ddpmfarm.common.model.PublishedModels;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.wire.Topics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's composition root: creates the topics, builds the services once and deploys its verticles in order:
 * the {@link EventsVerticle} (which completes its start once the job store is rebuilt from the events topic), then the
 * {@link ApiVerticle}, one instance per event loop on one port ({@code FARM_HTTP_INSTANCES}), which completes once
 * they listen. Used by the gateway process and by the embedded stack.
 */
public final class Gateway {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    private final Vertx vertx;
    private final TransactionalPublisher publisher;
    private final PublishedModels.Mirror models;
    private final List<String> deployments;
    private final int port;

    /** What the start does off the event loop: the job topic's partition count and the models' mirror. */
    private record Setup(int partitions, PublishedModels.Mirror models) {
    }

    private Gateway(Vertx vertx, TransactionalPublisher publisher, PublishedModels.Mirror models,
                    List<String> deployments, int port) {
        this.vertx = vertx;
        this.publisher = publisher;
        this.models = models;
        this.deployments = deployments;
        this.port = port;
    }

    /**
     * Starts a gateway on {@code vertx} with {@code config}, serving files from {@code objects} (and mirroring the models
     * published there, with {@code FARM_MODELS_PREFIX}).
     *
     * @return the running gateway, once it accepts requests
     */
    public static Future<Gateway> start(Vertx vertx, FarmConfig config, ObjectStore objects) {
        return vertx.executeBlocking(() -> new Setup(jobPartitions(config), PublishedModels.follow(config, objects)))
                .compose(setup -> {
            GatewayMetrics metrics = new GatewayMetrics();
            JobStore store = new JobStore(config.get(FarmConfig.EVENTS_PER_JOB));
            String transactionalId = "farm-gateway-" + UUID.randomUUID();
            TransactionalPublisher publisher = new TransactionalPublisher(
                    () -> KafkaClients.transactionalProducer(config, transactionalId), config.get(FarmConfig.SUBMIT_TIMEOUT));
            ApiVerticle.Services services = new ApiVerticle.Services(store, publisher,
                    new JobPlanner(config.get(FarmConfig.SHARD_SIZE), setup.partitions()),
                    new ModelRegistry(config.get(FarmConfig.MODELS_DIR)), new ApiKeys(config.get(FarmConfig.API_KEYS)),
                    new UrlSigner(signingKey(config), config.get(FarmConfig.URL_TTL)), objects, metrics,
                    new RateLimiter(config.get(FarmConfig.RATE_LIMIT)), ConcurrentHashMap.newKeySet(),
                    new ConcurrentHashMap<>());
            DeploymentOptions options = new DeploymentOptions().setConfig(new JsonObject(new HashMap<>(config.asMap())));
            int configured = config.get(FarmConfig.HTTP_INSTANCES);
            DeploymentOptions apiOptions = new DeploymentOptions(options)
                    .setInstances(configured > 0 ? configured : Runtime.getRuntime().availableProcessors());
            List<ApiVerticle> apis = new CopyOnWriteArrayList<>();
            return vertx.deployVerticle(new EventsVerticle(store, metrics), options)
                    .compose(events -> vertx.deployVerticle(() -> {
                        ApiVerticle api = new ApiVerticle(services);
                        apis.add(api);
                        return api;
                    }, apiOptions).map(apiId -> new Gateway(vertx, publisher, setup.models(), List.of(apiId, events),
                            apis.get(0).port())))
                    .onFailure(e -> {
                        closeQuietly(publisher);
                        setup.models().close();
                    });
        });
    }

    /**
     * Creates the farm's topics when missing; returns the partition count of {@link Topics#JOBS}. A topic just created
     * can be unknown to the broker's metadata for a moment, so the describe is retried for up to ten seconds.
     */
    private static int jobPartitions(FarmConfig config) throws Exception {
        try (Admin admin = KafkaClients.admin(config, "farm-gateway-admin")) {
            FarmTopics.ensure(admin, config.get(FarmConfig.KAFKA_REPLICATION));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (true) {
                try {
                    return admin.describeTopics(List.of(Topics.JOBS)).allTopicNames().get().get(Topics.JOBS)
                            .partitions().size();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    private static byte[] signingKey(FarmConfig config) {
        String configured = config.get(FarmConfig.URL_SIGNING_KEY);
        if (!configured.isEmpty()) {
            return configured.getBytes(StandardCharsets.UTF_8);
        }
        LOG.info("FARM_URL_SIGNING_KEY is not set: signed file URLs are valid for this process only");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }

    private static void closeQuietly(TransactionalPublisher publisher) {
        try {
            publisher.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The HTTP port the gateway listens on. */
    public int port() {
        return port;
    }

    /** Stops accepting requests, then stops reading events, the models' mirror and the producer. */
    public Future<Void> close() {
        Future<Void> undeployed = Future.succeededFuture();
        for (String id : deployments) {
            undeployed = undeployed.compose(v -> vertx.undeploy(id));
        }
        return undeployed.eventually(() -> vertx.executeBlocking(() -> {
            models.close();
            publisher.close();
            return null;
        }));
    }
}

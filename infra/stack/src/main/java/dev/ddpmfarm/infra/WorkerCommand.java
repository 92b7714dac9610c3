package dev.ddpmfarm.infra;

import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.worker.farm.Worker;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code farm worker}: one worker as its own process against an existing Kafka cluster and S3/MinIO, configured only
 * by {@code FARM_*} environment variables (SPEC §2); start more of them for more throughput. On Ctrl-C / SIGTERM it
 * checkpoints its tasks and leaves the consumer group, so the other workers resume them.
 */
public final class WorkerCommand {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerCommand.class);

    private WorkerCommand() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            throw new IllegalArgumentException("worker takes no arguments: it is configured by FARM_* variables");
        }
        FarmConfig config = FarmConfig.fromEnvironment();
        S3ObjectStore objects = S3ObjectStore.connect(config);
        Vertx vertx = Vertx.vertx();
        Worker worker = Worker.deploy(vertx, config, objects).toCompletionStage().toCompletableFuture().get();
        LOG.info("worker running: Kafka {}, S3 {}, models in {}", config.get(FarmConfig.KAFKA_BOOTSTRAP),
                config.get(FarmConfig.S3_ENDPOINT), config.get(FarmConfig.MODELS_DIR).toAbsolutePath());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping the worker");
            // one after the other from this thread: with vertx.close() composed onto the worker's close, the hook waited
            // forever after both had finished (seen under farm cluster)
            try {
                EmbeddedStack.await(worker.close());
                EmbeddedStack.await(vertx.close());
            } catch (Exception e) {
                LOG.warn("the worker did not stop cleanly", e);
            }
        }));
    }
}

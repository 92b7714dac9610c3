package dev.ddpmfarm.infra;

import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.gateway.Gateway;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code farm gateway}: the gateway as its own process against an existing Kafka cluster and S3/MinIO, configured
 * only by {@code FARM_*} environment variables (SPEC §2). Stops cleanly on Ctrl-C / SIGTERM.
 */
public final class GatewayCommand {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayCommand.class);

    private GatewayCommand() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            throw new IllegalArgumentException("gateway takes no arguments: it is configured by FARM_* variables");
        }
        FarmConfig config = FarmConfig.fromEnvironment();
        S3ObjectStore objects = S3ObjectStore.connect(config);
        Vertx vertx = Vertx.vertx();
        Gateway gateway = Gateway.start(vertx, config, objects).toCompletionStage().toCompletableFuture().get();
        LOG.info("gateway listening on port {}, Kafka {}, S3 {}", gateway.port(), config.get(FarmConfig.KAFKA_BOOTSTRAP),
                config.get(FarmConfig.S3_ENDPOINT));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping the gateway");
            // one after the other from this thread: with vertx.close() composed onto the gateway's close, the hook waited
            // forever after both had finished (seen under farm cluster)
            try {
                EmbeddedStack.await(gateway.close());
                EmbeddedStack.await(vertx.close());
            } catch (Exception e) {
                LOG.warn("the gateway did not stop cleanly", e);
            }
        }));
    }
}

package dev.ddpmfarm.infra;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.ModelCard;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code farm up}: the {@link EmbeddedStack} until Ctrl-C (SPEC §2). Prints the URL and, when {@code FARM_API_KEYS} is
 * unset, the API key it generated.
 */
public final class UpCommand {
    private static final Logger LOG = LoggerFactory.getLogger(UpCommand.class);

    private UpCommand() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            throw new IllegalArgumentException("up takes no arguments: it is configured by FARM_* variables");
        }
        FarmConfig config = FarmConfig.fromEnvironment();
        if (models(config.get(FarmConfig.MODELS_DIR)).isEmpty() && config.get(FarmConfig.MODELS_PREFIX).isEmpty()) {
            throw new IllegalArgumentException("no model in " + config.get(FarmConfig.MODELS_DIR).toAbsolutePath()
                    + " (a directory with a " + ModelCard.FILE_NAME + " per model): set FARM_MODELS_DIR, or train one "
                    + "with scripts/farm train");
        }
        EmbeddedStack stack = EmbeddedStack.start(config);
        List<String> models = models(config.get(FarmConfig.MODELS_DIR));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping the farm");
            try {
                stack.close();
            } catch (Exception e) {
                LOG.warn("the farm did not stop cleanly", e);
            }
            stopped.countDown();
        }, "farm-up-stop"));
        banner(System.out, stack, models);
        stopped.await();
    }

    private static void banner(PrintStream out, EmbeddedStack stack, List<String> models) {
        FarmConfig c = stack.config();
        out.println();
        out.println("ddpm-farm is up: " + stack.url() + "/");
        if (stack.generatedKey() != null) {
            out.println("  API key   " + stack.generatedKey().key() + "   (tenant " + stack.generatedKey().tenant()
                    + "; generated because FARM_API_KEYS is unset)");
        } else {
            out.println("  API keys  from FARM_API_KEYS");
        }
        if (stack.workerMetricsUrl() != null) {
            out.println("  worker    metrics at " + stack.workerMetricsUrl());
        }
        out.println("  models    " + (models.isEmpty() ? "none yet (scripts/farm publish DIR puts one under "
                + c.get(FarmConfig.MODELS_PREFIX) + ")" : String.join(", ", models)) + " in "
                + c.get(FarmConfig.MODELS_DIR).toAbsolutePath());
        out.println("  data      " + c.get(FarmConfig.DATA_DIR).toAbsolutePath() + " (Kafka at "
                + c.get(FarmConfig.KAFKA_BOOTSTRAP) + ", S3 at " + c.get(FarmConfig.S3_ENDPOINT) + ")");
        out.println();
        out.println("  export FARM_API_KEY=" + (stack.generatedKey() != null ? stack.generatedKey().key() : "<your key>"));
        out.println("  scripts/farm submit '{\"type\":\"generate\",\"count\":16,\"sampler\":\"ddim\",\"steps\":50}' --wait");
        out.println();
        out.println("More workers: start up with FARM_S3_ACCESS_KEY and FARM_S3_SECRET_KEY set, then run "
                + "scripts/farm worker with the same variables. Ctrl-C stops the farm.");
        out.flush();
    }

    /** The names of the model directories under {@code dir}. */
    private static List<String> models(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(d -> Files.isRegularFile(d.resolve(ModelCard.FILE_NAME)))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        }
    }
}

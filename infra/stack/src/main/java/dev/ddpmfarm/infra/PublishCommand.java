package dev.ddpmfarm.infra;

import dev.ddpmfarm.clients.s3.S3ObjectStore;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.PublishedModels;
import java.nio.file.Path;

/**
 * {@code farm publish DIR}: uploads a model directory (a trained model, {@code config.json} last) to the object store
 * under {@code FARM_MODELS_PREFIX}, where the gateways and workers that have the same prefix find it (SPEC §7).
 */
public final class PublishCommand {

    private PublishCommand() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("publish takes one model directory");
        }
        FarmConfig config = FarmConfig.fromEnvironment();
        String prefix = config.get(FarmConfig.MODELS_PREFIX);
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("set FARM_MODELS_PREFIX (e.g. models/) to the prefix the farm reads");
        }
        for (String key : new PublishedModels(S3ObjectStore.connect(config), prefix).publish(Path.of(args[0]))) {
            System.out.println("s3://" + config.get(FarmConfig.S3_BUCKET) + "/" + key);
        }
    }
}

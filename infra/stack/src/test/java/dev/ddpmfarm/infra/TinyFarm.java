package dev.ddpmfarm.infra;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.worker.testing.TinyModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The configuration of a test farm on loopback that serves {@link TinyModel}. */
final class TinyFarm {

    private TinyFarm() {
    }

    /**
     * Writes the tiny model under {@code dir/models} and configures the farm with its data under {@code dir/data},
     * the gateway and the worker's metrics on free loopback ports, and {@code settings} ({@code FARM_*} name, value,
     * name, value, …) added or overriding.
     */
    static FarmConfig config(Path dir, String... settings) {
        TinyModel.write(dir.resolve("models"));
        Map<String, String> values = new LinkedHashMap<>(Map.of("FARM_DATA_DIR", dir.resolve("data").toString(),
                "FARM_MODELS_DIR", dir.resolve("models").toString(), "FARM_HTTP_PORT", "0",
                "FARM_HTTP_HOST", "127.0.0.1", "FARM_WORKER_METRICS_PORT", "0"));
        for (int i = 0; i + 1 < settings.length; i += 2) {
            values.put(settings[i], settings[i + 1]);
        }
        return FarmConfig.from(values);
    }
}

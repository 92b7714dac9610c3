package dev.ddpmfarm.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.store.InMemoryObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing a model directory to the object store and mirroring it into another process's models directory. */
class PublishedModelsTest {
    @TempDir
    Path home;

    private final InMemoryObjectStore store = new InMemoryObjectStore();
    private final PublishedModels published = new PublishedModels(store, "models/");

    /** A model directory {@code home/trained/name} with a card, weights of {@code weightBytes} bytes and a checkpoint. */
    private Path model(String name, int weightBytes) throws Exception {
        Path dir = home.resolve("trained").resolve(name);
        new ModelCard(name, new int[]{1, 28, 28}, 1000, "linear", List.of(), null, weightBytes, null, null).write(dir);
        Files.write(dir.resolve(ModelCard.WEIGHTS_FILE_NAME), new byte[weightBytes]);
        Files.createDirectories(dir.resolve("checkpoint"));
        Files.write(dir.resolve("checkpoint/adam.safetensors"), new byte[3]);
        return dir;
    }

    @Test
    void publishedModelIsMirroredAndReadByTheRegistry() throws Exception {
        Path dir = model("plain", 100);
        assertEquals(List.of("models/plain/model.safetensors", "models/plain/config.json"), published.publish(dir),
                "top-level files only, the config last");

        Path mirror = home.resolve("mirror");
        assertEquals(List.of("plain"), published.mirror(mirror));
        assertArrayEquals(Files.readAllBytes(dir.resolve("config.json")), Files.readAllBytes(mirror.resolve("plain/config.json")));
        assertEquals(100, Files.size(mirror.resolve("plain/model.safetensors")));
        assertFalse(Files.exists(mirror.resolve("plain/checkpoint")));
        try (var files = Files.list(mirror.resolve("plain"))) {
            assertEquals(2, files.count(), "no temporary files left");
        }
        assertEquals(1000, new ModelRegistry(mirror).find("plain").orElseThrow().timesteps());

        assertEquals(List.of(), published.mirror(mirror), "an up-to-date copy is not downloaded again");
    }

    @Test
    void changedOrDamagedCopiesAreDownloadedAgain() throws Exception {
        Path mirror = home.resolve("mirror");
        published.publish(model("plain", 100));
        published.mirror(mirror);

        published.publish(model("plain", 200));
        assertEquals(List.of("plain"), published.mirror(mirror), "a new config (here: the parameter count)");
        assertEquals(200, Files.size(mirror.resolve("plain/model.safetensors")));

        Files.write(mirror.resolve("plain/model.safetensors"), new byte[7]);
        assertEquals(List.of("plain"), published.mirror(mirror), "weights of the wrong size");
        assertEquals(200, Files.size(mirror.resolve("plain/model.safetensors")));
    }

    @Test
    void incompleteOrForeignObjectsAreNotMirrored() throws Exception {
        store.put("models/half/model.safetensors", new byte[4], "application/octet-stream");
        store.put("models/weightless/config.json", "{}".getBytes(), "application/json");
        store.put("models/../escape/config.json", "{}".getBytes(), "application/json");
        store.put("models/../escape/model.safetensors", new byte[4], "application/octet-stream");
        store.put("models/deep/sub/model.safetensors", new byte[4], "application/octet-stream");
        Path mirror = home.resolve("mirror");
        assertEquals(List.of(), published.mirror(mirror));
        assertFalse(Files.exists(mirror));
        assertFalse(Files.exists(home.resolve("escape")));
    }

    @Test
    void followMirrorsBeforeReturningAndIsOffWithoutAPrefix() throws Exception {
        published.publish(model("plain", 100));
        Path mirror = home.resolve("mirror");
        try (AutoCloseable off = PublishedModels.follow(FarmConfig.from(Map.of("FARM_MODELS_DIR", mirror.toString())),
                store)) {
            assertFalse(Files.exists(mirror));
        }
        try (AutoCloseable on = PublishedModels.follow(FarmConfig.from(Map.of("FARM_MODELS_DIR", mirror.toString(),
                "FARM_MODELS_PREFIX", "models/")), store)) {
            assertTrue(Files.isRegularFile(mirror.resolve("plain/model.safetensors")));
        }
    }
}

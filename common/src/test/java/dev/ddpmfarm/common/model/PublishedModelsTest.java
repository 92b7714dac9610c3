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
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
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

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    @DisplayName("a published model's top-level files, config last, arrive whole in the mirror and the registry reads them")
    void publishAndMirror() throws Exception {
        Path dir = model("plain", 100);
        assertEquals(List.of("models/plain/model.safetensors", "models/plain/config.json"), published.publish(dir));

        Path mirror = home.resolve("mirror");
        assertEquals(List.of("plain"), published.mirror(mirror, false));
        assertArrayEquals(Files.readAllBytes(dir.resolve("config.json")), Files.readAllBytes(mirror.resolve("plain/config.json")));
        assertEquals(List.of("config.json", "model.safetensors"), files(mirror.resolve("plain")),
                "no checkpoint, no temporary files");
        assertEquals(1000, new ModelRegistry(mirror).find("plain").orElseThrow().timesteps());
        assertEquals(List.of(), published.mirror(mirror, true), "an up-to-date copy is not copied again");
    }

    @Test
    @DisplayName("a model published again replaces the copy only in a refreshing round, as does a damaged copy")
    void republish() throws Exception {
        Path mirror = home.resolve("mirror");
        published.publish(model("plain", 100));
        published.mirror(mirror, false);

        published.publish(model("plain", 200));
        assertEquals(List.of(), published.mirror(mirror, false), "a running process keeps the copy it may have loaded");
        assertEquals(100, Files.size(mirror.resolve("plain/model.safetensors")));
        assertEquals(List.of("plain"), published.mirror(mirror, true));
        assertEquals(200, Files.size(mirror.resolve("plain/model.safetensors")));

        Files.write(mirror.resolve("plain/model.safetensors"), new byte[7]);
        Files.write(mirror.resolve("plain/.model.safetensors123.part"), new byte[7]);
        assertEquals(List.of("plain"), published.mirror(mirror, true), "weights of the wrong size");
        assertEquals(200, Files.size(mirror.resolve("plain/model.safetensors")));
        assertEquals(List.of("config.json", "model.safetensors"), files(mirror.resolve("plain")),
                "an interrupted copy's leftovers are removed");
    }

    @Test
    @DisplayName("publishing again removes the files the model directory no longer has")
    void staleFiles() throws Exception {
        Path dir = model("plain", 100);
        Files.write(dir.resolve("classifier.fb"), new byte[5]);
        published.publish(dir);
        Files.delete(dir.resolve("classifier.fb"));
        published.publish(dir);
        assertEquals(List.of("models/plain/config.json", "models/plain/model.safetensors"),
                store.list("models/").stream().map(o -> o.key()).toList());
    }

    @Test
    @DisplayName("half-published models, foreign keys and cards naming another model are not mirrored")
    void incompleteOrForeignObjects() throws Exception {
        store.put("models/half/model.safetensors", new byte[4], "application/octet-stream");
        store.put("models/weightless/config.json", "{}".getBytes(), "application/json");
        store.put("models/../escape/config.json", "{}".getBytes(), "application/json");
        store.put("models/../escape/model.safetensors", new byte[4], "application/octet-stream");
        store.put("models/deep/sub/model.safetensors", new byte[4], "application/octet-stream");
        published.publish(model("plain", 10));
        store.put("models/other/config.json", store.get("models/plain/config.json").orElseThrow(), "application/json");
        store.put("models/other/model.safetensors", new byte[10], "application/octet-stream");
        store.put("models/broken/config.json", "{\"name\":\"broken\"}".getBytes(), "application/json");
        store.put("models/broken/model.safetensors", new byte[10], "application/octet-stream");

        Path mirror = home.resolve("mirror");
        assertEquals(List.of("plain"), published.mirror(mirror, true));
        assertFalse(Files.exists(home.resolve("escape")));
        assertFalse(Files.exists(mirror.resolve("other/config.json")) || Files.exists(mirror.resolve("broken/config.json")));
    }

    @Test
    @DisplayName("follow mirrors before it returns, is off without a prefix, and a failing round does not throw")
    void follow() throws Exception {
        published.publish(model("plain", 100));
        Path mirror = home.resolve("mirror");
        try (PublishedModels.Mirror off = PublishedModels.follow(config(mirror, ""), store)) {
            assertFalse(Files.exists(mirror));
        }
        try (PublishedModels.Mirror on = PublishedModels.follow(config(mirror, "models/"), store)) {
            assertTrue(Files.isRegularFile(mirror.resolve("plain/model.safetensors")));
        }
        Path notADirectory = Files.writeString(home.resolve("file"), "x");
        PublishedModels.follow(config(notADirectory, "models/"), store).close();
    }

    private static FarmConfig config(Path modelsDir, String prefix) {
        return FarmConfig.from(Map.of("FARM_MODELS_DIR", modelsDir.toString(), "FARM_MODELS_PREFIX", prefix));
    }
}

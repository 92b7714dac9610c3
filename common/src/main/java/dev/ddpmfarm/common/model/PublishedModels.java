package dev.ddpmfarm.common.model;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.store.ObjectStore.ObjectInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Models published in the object store (SPEC §7: a model is a directory or an S3 prefix). Model {@code name} is the
 * objects {@code {prefix}{name}/{file}}, one per top-level file of its directory ({@code config.json},
 * {@code model.safetensors}, the classifier, …; subdirectories such as the trainer's checkpoint stay home). Gateways and
 * workers on other machines {@link #mirror} them into their local models directory, which {@link ModelRegistry}
 * reads. A model counts as published once its {@code config.json} and weights are both there; {@link #publish}
 * uploads the config last, and the mirror moves it into place last, so no reader sees a config without its weights.
 */
public final class PublishedModels {
    private static final System.Logger LOG = System.getLogger(PublishedModels.class.getName());
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final ObjectStore store;
    private final String prefix;

    /** The models under {@code prefix} (a key prefix ending in {@code /}) of {@code store}. */
    public PublishedModels(ObjectStore store, String prefix) {
        if (!prefix.endsWith("/")) {
            throw new IllegalArgumentException("a models prefix ends in /, was '" + prefix + "'");
        }
        this.store = store;
        this.prefix = prefix;
    }

    /**
     * Uploads model directory {@code dir} under its card's name, its {@code config.json} last.
     *
     * @return the keys written, in order
     */
    public List<String> publish(Path dir) throws IOException {
        String name = ModelCard.read(dir).name();
        if (!Files.isRegularFile(dir.resolve(ModelCard.WEIGHTS_FILE_NAME))) {
            throw new IllegalArgumentException(dir + " has no " + ModelCard.WEIGHTS_FILE_NAME);
        }
        List<Path> files;
        try (Stream<Path> children = Files.list(dir)) {
            files = children.filter(Files::isRegularFile).filter(f -> FILE.matcher(f.getFileName().toString()).matches())
                    .sorted(Comparator.comparing(PublishedModels::isConfig).thenComparing(Comparator.naturalOrder()))
                    .toList();
        }
        List<String> keys = new ArrayList<>();
        for (Path file : files) {
            String key = prefix + name + "/" + file.getFileName();
            store.put(key, Files.readAllBytes(file), mediaType(file.getFileName().toString()));
            keys.add(key);
        }
        return keys;
    }

    /**
     * Brings the copy {@code modelsDir/{name}} of every published model up to date: a model whose {@code config.json}
     * differs from the local one, or with a file missing or of another size here, is downloaded again, each file to a
     * temporary name and then moved into place, {@code config.json} last.
     *
     * @return the names of the models downloaded
     */
    public List<String> mirror(Path modelsDir) throws IOException {
        Map<String, Map<String, Long>> models = new TreeMap<>();
        for (ObjectInfo object : store.list(prefix)) {
            String[] parts = object.key().substring(prefix.length()).split("/", -1);
            if (parts.length == 2 && FILE.matcher(parts[0]).matches() && FILE.matcher(parts[1]).matches()) {
                models.computeIfAbsent(parts[0], n -> new TreeMap<>()).put(parts[1], object.size());
            }
        }
        List<String> downloaded = new ArrayList<>();
        for (Map.Entry<String, Map<String, Long>> model : models.entrySet()) {
            if (mirror(model.getKey(), model.getValue(), modelsDir.resolve(model.getKey()))) {
                downloaded.add(model.getKey());
            }
        }
        return downloaded;
    }

    private boolean mirror(String name, Map<String, Long> sizes, Path dir) throws IOException {
        if (!sizes.containsKey(ModelCard.WEIGHTS_FILE_NAME)) {
            return false;
        }
        byte[] config = store.get(prefix + name + "/" + ModelCard.FILE_NAME).orElse(null);
        if (config == null || isCurrent(dir, config, sizes)) {
            return false;
        }
        Files.createDirectories(dir);
        for (String file : sizes.keySet()) {
            if (!file.equals(ModelCard.FILE_NAME)) {
                try (InputStream in = store.open(prefix + name + "/" + file)
                        .orElseThrow(() -> new IOException(prefix + name + "/" + file + " went away while mirroring"))) {
                    write(dir, file, in);
                }
            }
        }
        write(dir, ModelCard.FILE_NAME, new ByteArrayInputStream(config));
        return true;
    }

    private static boolean isCurrent(Path dir, byte[] config, Map<String, Long> sizes) throws IOException {
        Path local = dir.resolve(ModelCard.FILE_NAME);
        if (!Files.isRegularFile(local) || !Arrays.equals(Files.readAllBytes(local), config)) {
            return false;
        }
        for (Map.Entry<String, Long> file : sizes.entrySet()) {
            Path copy = dir.resolve(file.getKey());
            if (!Files.isRegularFile(copy) || Files.size(copy) != file.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static void write(Path dir, String file, InputStream in) throws IOException {
        Path part = Files.createTempFile(dir, "." + file, ".part");
        try {
            Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, dir.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * Keeps {@code FARM_MODELS_DIR} a mirror of the models under {@code FARM_MODELS_PREFIX} when that is set: one
     * round now, before the caller reads the directory, then one every {@code FARM_MODELS_SYNC_SECONDS} on a daemon
     * thread until the returned handle is closed. A failed round is logged and the local copies go on serving; a new
     * model is then found by the registry's next scan, a changed one is used by processes started after the change.
     */
    public static AutoCloseable follow(FarmConfig config, ObjectStore store) {
        String prefix = config.get(FarmConfig.MODELS_PREFIX);
        if (prefix.isEmpty()) {
            return () -> { };
        }
        PublishedModels published = new PublishedModels(store, prefix);
        Path dir = config.get(FarmConfig.MODELS_DIR);
        Runnable round = () -> {
            try {
                List<String> downloaded = published.mirror(dir);
                if (!downloaded.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "models " + downloaded + " mirrored from " + prefix + " into "
                            + dir.toAbsolutePath());
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot mirror the models under " + prefix + ": " + e);
            }
        };
        round.run();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "farm-model-mirror");
            thread.setDaemon(true);
            return thread;
        });
        long interval = config.get(FarmConfig.MODELS_SYNC_INTERVAL).toMillis();
        timer.scheduleWithFixedDelay(round, interval, interval, TimeUnit.MILLISECONDS);
        return timer::shutdownNow;
    }

    private static boolean isConfig(Path file) {
        return file.getFileName().toString().equals(ModelCard.FILE_NAME);
    }

    private static String mediaType(String file) {
        if (file.endsWith(".json")) {
            return "application/json";
        }
        return file.endsWith(".png") ? "image/png" : "application/octet-stream";
    }
}

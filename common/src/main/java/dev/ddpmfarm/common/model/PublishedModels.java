package dev.ddpmfarm.common.model;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.store.ObjectStore.ObjectInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
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
 * reads. A model counts as published once its {@code config.json} and weights are both there: {@link #publish}
 * uploads the config last, and the mirror moves it into place last, so no reader sees a new model without its weights.
 * <p>
 * A process loads a model's files when it first needs them, so a copy in use is never replaced while processes run:
 * rounds after the first only add models that are missing here, and a model published again reaches the processes
 * (re)started after it. Processes that share a directory (the gateway and worker of {@code farm up}, the workers of
 * {@code farm cluster}) take turns through a lock file.
 */
public final class PublishedModels {
    private static final System.Logger LOG = System.getLogger(PublishedModels.class.getName());
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final String LOCK_FILE = ".mirror.lock";
    private static final String PART_SUFFIX = ".part";

    /** A running {@link #follow}: closing it stops the rounds and waits for one in progress. */
    public interface Mirror extends AutoCloseable {
        @Override
        void close();
    }

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
     * Uploads model directory {@code dir} under its card's name: its top-level files (each read whole: weights of up to
     * 2 GB), then removes the model's objects that the directory no longer has, then the {@code config.json}.
     *
     * @return the keys written, in order
     */
    public List<String> publish(Path dir) throws IOException {
        String model = prefix + ModelCard.read(dir).name() + "/";
        if (!Files.isRegularFile(dir.resolve(ModelCard.WEIGHTS_FILE_NAME))) {
            throw new IllegalArgumentException(dir + " has no " + ModelCard.WEIGHTS_FILE_NAME);
        }
        List<String> files;
        try (Stream<Path> children = Files.list(dir)) {
            files = children.filter(Files::isRegularFile).map(f -> f.getFileName().toString())
                    .filter(f -> FILE.matcher(f).matches() && !f.equals(ModelCard.FILE_NAME)).sorted().toList();
        }
        List<String> keys = new ArrayList<>();
        for (String file : files) {
            store.put(model + file, Files.readAllBytes(dir.resolve(file)), mediaType(file));
            keys.add(model + file);
        }
        for (ObjectInfo stale : store.list(model)) {
            String file = stale.key().substring(model.length());
            if (!files.contains(file) && !file.equals(ModelCard.FILE_NAME)) {
                store.delete(stale.key());
            }
        }
        store.put(model + ModelCard.FILE_NAME, Files.readAllBytes(dir.resolve(ModelCard.FILE_NAME)),
                "application/json");
        keys.add(model + ModelCard.FILE_NAME);
        return keys;
    }

    /**
     * Copies the published models into {@code modelsDir/{name}}: those missing there and, with {@code refresh} (before
     * the process uses any), those whose {@code config.json} differs from the published one or with a file missing or
     * of another size. Each file goes to a temporary name and is then moved into place, {@code config.json} last. A
     * model whose card does not parse or names another model is skipped, as is the whole round while another process
     * mirrors into the same directory.
     *
     * @return the names of the models copied
     */
    public List<String> mirror(Path modelsDir, boolean refresh) throws IOException {
        Map<String, Map<String, Long>> models = new TreeMap<>();
        for (ObjectInfo object : store.list(prefix)) {
            String[] parts = object.key().substring(prefix.length()).split("/", -1);
            if (parts.length == 2 && FILE.matcher(parts[0]).matches() && FILE.matcher(parts[1]).matches()) {
                models.computeIfAbsent(parts[0], n -> new TreeMap<>()).put(parts[1], object.size());
            }
        }
        Files.createDirectories(modelsDir);
        List<String> copied = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(modelsDir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = tryLock(channel)) {
            if (lock == null) {
                return copied;
            }
            for (Map.Entry<String, Map<String, Long>> model : models.entrySet()) {
                Path dir = modelsDir.resolve(model.getKey());
                boolean present = Files.isRegularFile(dir.resolve(ModelCard.FILE_NAME));
                if ((refresh || !present) && copy(model.getKey(), model.getValue(), dir)) {
                    copied.add(model.getKey());
                }
            }
        }
        return copied;
    }

    /** The lock of the directory, or null while another process (or another mirror of this one) holds it. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    private boolean copy(String name, Map<String, Long> sizes, Path dir) throws IOException {
        String model = prefix + name + "/";
        if (!sizes.containsKey(ModelCard.WEIGHTS_FILE_NAME)) {
            return false;
        }
        byte[] config = store.get(model + ModelCard.FILE_NAME).orElse(null);
        if (config == null || !isCard(config, name) || isCurrent(dir, config, sizes)) {
            return false;
        }
        Files.createDirectories(dir);
        deleteParts(dir);
        for (String file : sizes.keySet()) {
            if (!file.equals(ModelCard.FILE_NAME)) {
                try (InputStream in = store.open(model + file)
                        .orElseThrow(() -> new IOException(model + file + " went away while mirroring"))) {
                    write(dir, file, in);
                }
            }
        }
        if (!Arrays.equals(config, store.get(model + ModelCard.FILE_NAME).orElse(null))) {
            return false; // published again while copying: the next round copies the new version whole
        }
        write(dir, ModelCard.FILE_NAME, new ByteArrayInputStream(config));
        return true;
    }

    private static boolean isCard(byte[] config, String name) {
        try {
            String named = ModelCard.parse(config).name();
            if (named.equals(name)) {
                return true;
            }
            LOG.log(System.Logger.Level.WARNING, "not mirroring model " + name + ": its card names " + named);
        } catch (UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "not mirroring model " + name + ": " + e.getCause().getMessage());
        }
        return false;
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

    /** Removes what an interrupted copy left (the lock is held, so no copy is under way). */
    private static void deleteParts(Path dir) throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            for (Path part : children.filter(f -> f.getFileName().toString().endsWith(PART_SUFFIX)).toList()) {
                Files.deleteIfExists(part);
            }
        }
    }

    private static void write(Path dir, String file, InputStream in) throws IOException {
        Path part = Files.createTempFile(dir, "." + file, PART_SUFFIX);
        try {
            Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            Files.move(part, dir.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * Keeps {@code FARM_MODELS_DIR} a mirror of the models under {@code FARM_MODELS_PREFIX} when that is set: a
     * refreshing round now, before the caller reads the directory, then every {@code FARM_MODELS_SYNC_SECONDS} a round
     * that adds new models (the registry lists them at its next scan) on a daemon thread, until closed. A failed round
     * is logged and the local copies go on serving.
     */
    public static Mirror follow(FarmConfig config, ObjectStore store) {
        String prefix = config.get(FarmConfig.MODELS_PREFIX);
        if (prefix.isEmpty()) {
            return () -> { };
        }
        PublishedModels published = new PublishedModels(store, prefix);
        Path dir = config.get(FarmConfig.MODELS_DIR);
        published.round(dir, true);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "farm-model-mirror");
            thread.setDaemon(true);
            return thread;
        });
        long interval = config.get(FarmConfig.MODELS_SYNC_INTERVAL).toMillis();
        timer.scheduleWithFixedDelay(() -> published.round(dir, false), interval, interval, TimeUnit.MILLISECONDS);
        return () -> {
            timer.shutdown();
            try {
                timer.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    /** One {@link #mirror} round that logs what it copied or why it failed, and never throws. */
    private void round(Path dir, boolean refresh) {
        try {
            List<String> copied = mirror(dir, refresh);
            if (!copied.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "models " + copied + " mirrored from " + prefix + " into "
                        + dir.toAbsolutePath());
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot mirror the models under " + prefix + ": " + e);
        }
    }

    private static String mediaType(String file) {
        if (file.endsWith(".json")) {
            return "application/json";
        }
        return file.endsWith(".png") ? "image/png" : "application/octet-stream";
    }
}

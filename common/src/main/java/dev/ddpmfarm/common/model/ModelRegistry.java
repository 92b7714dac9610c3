package dev.ddpmfarm.common.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The models a process serves: every directory of the models directory with a {@code config.json} (SPEC §7), read
 * as a {@link ModelCard} and found by its name (the gateway validates jobs against the card, the worker loads the
 * directory). A lookup of an unknown model, or the list of them all, rescans the directory (at most every few
 * seconds), so a model that lands while the process runs is picked up. Logs through {@link System.Logger}, which the
 * processes route to SLF4J.
 */
public final class ModelRegistry {
    private static final System.Logger LOG = System.getLogger(ModelRegistry.class.getName());
    private static final Duration RESCAN_INTERVAL = Duration.ofSeconds(5);

    /** A model: its card and the directory it was read from. */
    public record Model(ModelCard card, Path dir) {
    }

    private final Path dir;
    private volatile Map<String, Model> models = Map.of();
    private volatile long scannedAtNanos;

    public ModelRegistry(Path dir) {
        this.dir = dir;
        scan();
    }

    /** The card of model {@code name}. */
    public Optional<ModelCard> find(String name) {
        return model(name).map(Model::card);
    }

    /** Model {@code name} with its directory. */
    public Optional<Model> model(String name) {
        Model model = models.get(name);
        if (model == null && rescanIfStale()) {
            model = models.get(name);
        }
        return Optional.ofNullable(model);
    }

    /** Every model's card, by name. */
    public Collection<ModelCard> all() {
        rescanIfStale();
        return models.values().stream().map(Model::card).toList();
    }

    /** Scans the directory again when the last scan is older than {@link #RESCAN_INTERVAL}; whether it did. */
    private boolean rescanIfStale() {
        if (System.nanoTime() - scannedAtNanos <= RESCAN_INTERVAL.toNanos()) {
            return false;
        }
        scan();
        return true;
    }

    private synchronized void scan() {
        Map<String, Model> found = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> children = Files.list(dir)) {
                children.filter(d -> Files.isRegularFile(d.resolve(ModelCard.FILE_NAME))).forEach(d -> {
                    try {
                        ModelCard card = ModelCard.read(d);
                        found.put(card.name(), new Model(card, d));
                    } catch (UncheckedIOException e) {
                        LOG.log(System.Logger.Level.WARNING, "skipping model " + d + ": " + e.getMessage());
                    }
                });
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot list models in " + dir + ": " + e.getMessage());
            }
        }
        if (!found.keySet().equals(models.keySet())) {
            LOG.log(System.Logger.Level.INFO, "models in " + dir.toAbsolutePath() + ": " + found.keySet());
        }
        models = Map.copyOf(found);
        scannedAtNanos = System.nanoTime();
    }
}

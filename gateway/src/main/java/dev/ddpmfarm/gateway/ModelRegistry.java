package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.model.ModelCard;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the gateway accepts jobs for: every directory of the models directory with a {@code config.json}
 * (SPEC §7), read as a {@link ModelCard}. A lookup of an unknown model rescans the directory (at most every few
 * seconds), so a model that lands while the gateway runs is picked up.
 */
final class ModelRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
    private static final Duration RESCAN_INTERVAL = Duration.ofSeconds(5);

    private final Path dir;
    private volatile Map<String, ModelCard> cards = Map.of();
    private volatile long scannedAtNanos;

    ModelRegistry(Path dir) {
        this.dir = dir;
        scan();
    }

    Optional<ModelCard> find(String name) {
        ModelCard card = cards.get(name);
        if (card == null && System.nanoTime() - scannedAtNanos > RESCAN_INTERVAL.toNanos()) {
            scan();
            card = cards.get(name);
        }
        return Optional.ofNullable(card);
    }

    /** Every model, by name. */
    Collection<ModelCard> all() {
        return cards.values();
    }

    private synchronized void scan() {
        Map<String, ModelCard> found = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> children = Files.list(dir)) {
                children.filter(d -> Files.isRegularFile(d.resolve(ModelCard.FILE_NAME))).forEach(d -> {
                    try {
                        ModelCard card = ModelCard.read(d);
                        found.put(card.name(), card);
                    } catch (UncheckedIOException e) {
                        LOG.warn("skipping model {}: {}", d, e.getMessage());
                    }
                });
            } catch (IOException e) {
                LOG.warn("cannot list models in {}: {}", dir, e.getMessage());
            }
        }
        if (!found.keySet().equals(cards.keySet())) {
            LOG.info("models in {}: {}", dir.toAbsolutePath(), found.keySet());
        }
        cards = Map.copyOf(found);
        scannedAtNanos = System.nanoTime();
    }
}

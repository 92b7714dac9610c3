package dev.ddpmfarm.worker.farm;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets of each partition may be committed when records finish out of order (SPEC §5: a task's offset is
 * committed only after its results are stored). A partition's committable position is the offset of its oldest
 * unfinished record, or one past its newest finished record when none is left, so a crash redelivers every record
 * that had not finished, and maybe some that had (their outputs are idempotent).
 */
final class OffsetTracker {
    /** Per partition: received offset → finished. */
    private final Map<TopicPartition, TreeMap<Long, Boolean>> pending = new HashMap<>();
    /** Per partition: one past its finished prefix, the position it may commit. */
    private final Map<TopicPartition, Long> ready = new HashMap<>();
    /** Per partition: the position last reported {@link #committed}. */
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    /** A record was received. */
    void received(TopicPartition partition, long offset) {
        pending.computeIfAbsent(partition, p -> new TreeMap<>()).put(offset, false);
    }

    /** A received record has finished: its results are stored (or it was dead-lettered, retried, or skipped). */
    void finished(TopicPartition partition, long offset) {
        TreeMap<Long, Boolean> offsets = pending.get(partition);
        if (offsets != null && offsets.containsKey(offset)) {
            offsets.put(offset, true);
        }
    }

    /**
     * The positions to commit that are not committed yet: for each partition, the position after the finished prefix
     * of its records. They count as committed once {@link #committed} says so, so a failed commit is offered again.
     */
    Map<TopicPartition, OffsetAndMetadata> committable() {
        for (Map.Entry<TopicPartition, TreeMap<Long, Boolean>> e : pending.entrySet()) {
            TreeMap<Long, Boolean> offsets = e.getValue();
            while (!offsets.isEmpty() && offsets.firstEntry().getValue()) {
                ready.put(e.getKey(), offsets.pollFirstEntry().getKey() + 1);
            }
        }
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        ready.forEach((partition, position) -> {
            if (!position.equals(committed.get(partition))) {
                out.put(partition, new OffsetAndMetadata(position));
            }
        });
        return out;
    }

    /** The broker has taken {@code positions}. */
    void committed(Map<TopicPartition, OffsetAndMetadata> positions) {
        positions.forEach((partition, position) -> committed.put(partition, position.offset()));
    }

    /** Forgets partitions this consumer no longer owns; their unfinished records will go to another consumer. */
    void forget(Collection<TopicPartition> partitions) {
        partitions.forEach(p -> {
            pending.remove(p);
            ready.remove(p);
            committed.remove(p);
        });
    }
}

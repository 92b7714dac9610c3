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
    /** Per partition: the position last returned by {@link #committable()}. */
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
     * The positions to commit that moved since the last call: for each partition, the finished prefix of its records
     * is dropped and the position after it returned.
     */
    Map<TopicPartition, OffsetAndMetadata> committable() {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (Map.Entry<TopicPartition, TreeMap<Long, Boolean>> e : pending.entrySet()) {
            TreeMap<Long, Boolean> offsets = e.getValue();
            Long position = null;
            while (!offsets.isEmpty() && offsets.firstEntry().getValue()) {
                position = offsets.pollFirstEntry().getKey() + 1;
            }
            if (position != null && !position.equals(committed.get(e.getKey()))) {
                committed.put(e.getKey(), position);
                out.put(e.getKey(), new OffsetAndMetadata(position));
            }
        }
        return out;
    }

    /** Forgets partitions this consumer no longer owns; their unfinished records will go to another consumer. */
    void forget(Collection<TopicPartition> partitions) {
        partitions.forEach(p -> {
            pending.remove(p);
            committed.remove(p);
        });
    }
}

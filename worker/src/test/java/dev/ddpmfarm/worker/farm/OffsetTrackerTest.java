package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    private static final TopicPartition P0 = new TopicPartition("farm.jobs.v1", 0);
    private static final TopicPartition P1 = new TopicPartition("farm.jobs.v1", 1);

    @Test
    @DisplayName("a partition commits up to its oldest unfinished record, whatever order records finish in")
    void commitsFinishedPrefix() {
        OffsetTracker t = new OffsetTracker();
        for (long o = 10; o < 14; o++) {
            t.received(P0, o);
        }
        t.received(P1, 3);
        t.finished(P0, 11);
        t.finished(P0, 12);
        assertEquals(Map.of(), t.committable(), "10 is unfinished: nothing moves");
        t.finished(P0, 10);
        t.finished(P1, 3);
        Map<TopicPartition, OffsetAndMetadata> positions = t.committable();
        assertEquals(Map.of(P0, new OffsetAndMetadata(13), P1, new OffsetAndMetadata(4)), positions);
        assertEquals(positions, t.committable(), "offered again until the broker has taken them");
        t.committed(positions);
        assertEquals(Map.of(), t.committable(), "a committed position is not offered again");
        t.finished(P0, 13);
        assertEquals(Map.of(P0, new OffsetAndMetadata(14)), t.committable());
    }

    @Test
    @DisplayName("a forgotten partition is not committed")
    void forgetsRevokedPartitions() {
        OffsetTracker t = new OffsetTracker();
        t.received(P0, 5);
        t.finished(P0, 5);
        t.forget(List.of(P0));
        assertEquals(Map.of(), t.committable());
    }
}

package dev.ddpmfarm.clients.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.Control;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WireSerdeTest {
    private static final Instant AT = Instant.parse("2026-11-25T00:00:00Z");
    private static final String JOB = JobIds.next(AT, RandomGenerator.getDefault());

    @Test
    @DisplayName("tasks, events and control messages survive the serializer and the typed deserializer")
    void roundTrip() {
        WireSerializer ser = new WireSerializer();
        Task task = new Task(1, JOB, "acme", 0, 1, 0, 8, new GenerateRequest(null, 8, null, 10, null, null, 5L, null,
                null, null, null, null, null, null, null, null, null), 1, AT);
        assertEquals(task, new WireDeserializer<>(Task.class).deserialize(Topics.JOBS, ser.serialize(Topics.JOBS, task)));
        JobEvent event = ProgressEvent.of(JOB, "acme", 0, AT, 3, 10, 7, 0, 8);
        assertEquals(event, new WireDeserializer<>(JobEvent.class).deserialize(Topics.EVENTS,
                ser.serialize(Topics.EVENTS, event)));
        Control control = Control.cancel(JOB, "acme", AT);
        assertEquals(control, new WireDeserializer<>(Control.class).deserialize(Topics.CONTROL,
                ser.serialize(Topics.CONTROL, control)));
        assertNull(new WireDeserializer<>(Task.class).deserialize(Topics.JOBS, null), "tombstones stay null");
    }

    @Test
    @DisplayName("a poison value fails with a SerializationException that names the bad field")
    void poison() {
        WireDeserializer<Task> de = new WireDeserializer<>(Task.class);
        SerializationException e = assertThrows(SerializationException.class,
                () -> de.deserialize(Topics.JOBS, "{\"schemaVersion\":1,\"jobId\":42}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("jobId"), e.getMessage());
        assertThrows(SerializationException.class, () -> de.deserialize(Topics.JOBS, new byte[]{1, 2, 3}));
    }

    @Test
    @DisplayName("producers are durable (acks=all, idempotent); consumers read committed and never auto-commit")
    void settings() {
        FarmConfig config = FarmConfig.from(Map.of("FARM_KAFKA_BOOTSTRAP", "k:9092"));
        Map<String, Object> p = KafkaClients.transactionalProducerSettings(config, "gateway-1");
        assertEquals("all", p.get(ProducerConfig.ACKS_CONFIG));
        assertEquals(true, p.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
        assertEquals("gateway-1", p.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG));
        assertEquals("k:9092", p.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
        Map<String, Object> c = KafkaClients.consumerSettings(config, "w1", "farm-workers");
        assertEquals("read_committed", c.get(ConsumerConfig.ISOLATION_LEVEL_CONFIG));
        assertEquals(false, c.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        assertEquals("farm-workers", c.get(ConsumerConfig.GROUP_ID_CONFIG));
    }

    @Test
    @DisplayName("the shards of a job spread over every partition, shard 0 where the key's default partition is")
    void shardPartitions() {
        Set<Integer> used = new HashSet<>();
        for (int shard = 0; shard < 12; shard++) {
            used.add(FarmTopics.partitionForShard(JOB, shard, 12));
        }
        assertEquals(12, used.size());
        int keyed = org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                JOB.getBytes(StandardCharsets.UTF_8))) % 12;
        assertEquals(keyed, FarmTopics.partitionForShard(JOB, 0, 12));
    }
}

package dev.ddpmfarm.clients.kafka;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.WireMessage;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The farm's Kafka clients, configured in one place: string keys (the job id), JSON wire values, durable producers
 * ({@code acks=all}, idempotence) and consumers that only see committed records and commit offsets themselves.
 */
public final class KafkaClients {

    private KafkaClients() {
    }

    /** Producer settings: {@code acks=all}, idempotent, ordered per partition, a short linger to batch. */
    public static Map<String, Object> producerSettings(FarmConfig config, String clientId) {
        Map<String, Object> p = common(config, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, WireSerializer.class);
        return p;
    }

    /**
     * Settings of a transactional producer: everything written between begin and commit becomes visible to
     * {@code read_committed} consumers at once or not at all. {@code transactionalId} must be unique per live
     * producer and stable across its restarts (a restarted producer fences its predecessor).
     */
    public static Map<String, Object> transactionalProducerSettings(FarmConfig config, String transactionalId) {
        Map<String, Object> p = producerSettings(config, transactionalId);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        int timeoutMs = (int) config.get(FarmConfig.SUBMIT_TIMEOUT).toMillis();
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeoutMs);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs + 2 /* linger */ + 1_000);
        // short: an abandoned transaction holds back every read_committed consumer of its partitions until it ends
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10_000);
        return p;
    }

    /**
     * Settings of a consumer in group {@code groupId}: reads committed records only, starts at the earliest offset
     * of a new group, never commits on its own (a task's offset is committed after its results are stored, SPEC §5).
     */
    public static Map<String, Object> consumerSettings(FarmConfig config, String clientId, String groupId) {
        Map<String, Object> c = readerSettings(config, clientId);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        return c;
    }

    /**
     * Settings of a consumer without a group, for {@code assign} and {@code seek}: the gateway reads all of
     * {@code farm.events.v1} from the beginning this way to rebuild its job store.
     */
    public static Map<String, Object> readerSettings(FarmConfig config, String clientId) {
        Map<String, Object> c = common(config, clientId);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        return c;
    }

    /** A durable producer of wire records. */
    public static Producer<String, WireMessage> producer(FarmConfig config, String clientId) {
        return new KafkaProducer<>(producerSettings(config, clientId));
    }

    /** A transactional producer of wire records; the caller runs {@code initTransactions()}. */
    public static Producer<String, WireMessage> transactionalProducer(FarmConfig config, String transactionalId) {
        return new KafkaProducer<>(transactionalProducerSettings(config, transactionalId));
    }

    /** A group consumer of one wire record type. */
    public static <T extends WireMessage> Consumer<String, T> consumer(FarmConfig config, String clientId,
                                                                      String groupId, Class<T> type) {
        return new KafkaConsumer<>(consumerSettings(config, clientId, groupId), new StringDeserializer(),
                new WireDeserializer<>(type));
    }

    /** A group-less consumer of one wire record type, for {@code assign} and {@code seek}. */
    public static <T extends WireMessage> Consumer<String, T> reader(FarmConfig config, String clientId,
                                                                    Class<T> type) {
        return new KafkaConsumer<>(readerSettings(config, clientId), new StringDeserializer(),
                new WireDeserializer<>(type));
    }

    /**
     * A durable producer of raw values: for records that must keep their exact bytes, such as a task moved to the
     * dead-letter topic.
     */
    public static Producer<String, byte[]> rawProducer(FarmConfig config, String clientId) {
        Map<String, Object> p = producerSettings(config, clientId);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaProducer<>(p);
    }

    /**
     * A group consumer of raw values, for a caller that parses each record itself, so one it cannot parse can be
     * dead-lettered with its original bytes. At most {@code maxPollRecords} records per poll.
     */
    public static Consumer<String, byte[]> rawConsumer(FarmConfig config, String clientId, String groupId,
                                                       int maxPollRecords) {
        Map<String, Object> c = consumerSettings(config, clientId, groupId);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        return new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** An admin client. */
    public static Admin admin(FarmConfig config, String clientId) {
        Map<String, Object> a = common(config, clientId);
        a.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(a);
    }

    private static Map<String, Object> common(FarmConfig config, String clientId) {
        Map<String, Object> m = new HashMap<>();
        m.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.get(FarmConfig.KAFKA_BOOTSTRAP));
        m.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        return m;
    }
}

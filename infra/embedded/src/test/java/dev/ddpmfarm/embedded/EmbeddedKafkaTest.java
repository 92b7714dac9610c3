package dev.ddpmfarm.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded broker is a real one: clients of the stock Kafka library use it, and its data outlives it. */
class EmbeddedKafkaTest {
    private static final String TOPIC = "t";

    @TempDir
    Path dir;

    @Test
    @DisplayName("a broker restarted on the same directory and port keeps topics, records and committed offsets")
    void restartKeepsData() throws Exception {
        int port;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            port = kafka.port();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            send(kafka, "a", "b", "c");
            assertEquals(List.of("a", "b", "c"), consume(kafka, 3));
            send(kafka, "d");
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, port)) {
            assertEquals("127.0.0.1:" + port, kafka.bootstrap());
            assertEquals(List.of("d"), consume(kafka, 1), "the group resumes after its committed offsets");
        }
    }

    @Test
    @DisplayName("a throw-away broker deletes its directory when closed")
    void throwAway() throws Exception {
        Path data;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap()))) {
                data = Path.of(admin.describeLogDirs(List.of(1)).allDescriptions().get().get(1).keySet().iterator()
                        .next());
            }
            assertTrue(Files.isDirectory(data));
        }
        assertFalse(Files.exists(data));
    }

    private static void send(EmbeddedKafka kafka, String... values) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            for (String v : values) {
                producer.send(new ProducerRecord<>(TOPIC, "key", v)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Reads {@code n} records in group "g" and commits them. */
    private static List<String> consume(EmbeddedKafka kafka, int n) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap(), ConsumerConfig.GROUP_ID_CONFIG, "g",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (values.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                }
            }
            consumer.commitSync();
            return values;
        }
    }
}

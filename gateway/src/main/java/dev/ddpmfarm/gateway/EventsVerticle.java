package dev.ddpmfarm.gateway;

import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.Topics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the {@link JobStore} from {@code farm.events.v1}: a group-less consumer assigned every partition reads the
 * topic from the beginning, on its own thread, and applies each record in partition order. {@code start} completes
 * once the store has caught up with what the topic held at startup, so a restarted gateway answers only with its
 * state rebuilt. A record that cannot be parsed is logged, counted and skipped. While the thread reads,
 * {@link GatewayMetrics#eventsReading} is set: {@code /health} answers 503 once it stopped, since job states no longer
 * change (a restarted gateway rebuilds them from the topic).
 */
final class EventsVerticle extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(EventsVerticle.class);

    private final JobStore store;
    private final GatewayMetrics metrics;
    private volatile boolean running = true;
    private volatile Consumer<String, JobEvent> consumer;
    private Thread thread;

    EventsVerticle(JobStore store, GatewayMetrics metrics) {
        this.store = store;
        this.metrics = metrics;
    }

    @Override
    public Future<?> start() {
        FarmConfig config = FarmConfig.from(config().getMap());
        Promise<Void> caughtUp = Promise.promise();
        thread = new Thread(() -> consume(config, caughtUp), "farm-events-consumer");
        thread.setDaemon(true);
        thread.start();
        return caughtUp.future();
    }

    private void consume(FarmConfig config, Promise<Void> caughtUp) {
        try (Consumer<String, JobEvent> c = KafkaClients.reader(config, "farm-gateway-events-" + UUID.randomUUID(),
                JobEvent.class)) {
            consumer = c;
            metrics.eventsReading.set(true);
            List<TopicPartition> partitions = c.partitionsFor(Topics.EVENTS, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> startupEnd = c.endOffsets(partitions);
            boolean caught = false;
            while (running) {
                poll(c);
                if (!caught && partitions.stream().allMatch(tp -> c.position(tp) >= startupEnd.get(tp))) {
                    caught = true;
                    LOG.info("job store rebuilt from {}: {} events", Topics.EVENTS, store.eventsApplied());
                    context.runOnContext(v -> caughtUp.tryComplete());
                }
            }
        } catch (WakeupException e) {
            LOG.debug("events consumer woken up to stop");
        } catch (RuntimeException e) {
            LOG.error("events consumer stopped; job states no longer change and /health answers 503", e);
            context.runOnContext(v -> caughtUp.tryFail(e));
        } finally {
            metrics.eventsReading.set(false);
        }
    }

    private void poll(Consumer<String, JobEvent> c) {
        ConsumerRecords<String, JobEvent> records;
        try {
            records = c.poll(Duration.ofMillis(500));
        } catch (RecordDeserializationException e) {
            metrics.poisonEvents.incrementAndGet();
            LOG.warn("skipping unreadable event at {}/{}: {}", e.topicPartition(), e.offset(), e.getMessage());
            c.seek(e.topicPartition(), e.offset() + 1);
            return;
        }
        for (ConsumerRecord<String, JobEvent> r : records) {
            try {
                store.apply(r.value(), r.partition(), r.offset());
                metrics.eventAgeMillis.set(Math.max(0, Instant.now().toEpochMilli() - r.value().at().toEpochMilli()));
            } catch (RuntimeException e) {
                // a record with no value, or one the store cannot take: skipped, as an unreadable one, so the jobs
                // after it still get their events
                metrics.poisonEvents.incrementAndGet();
                LOG.warn("skipping an event that cannot be applied at {}-{}/{}: {}", r.topic(), r.partition(),
                        r.offset(), e.toString());
            }
        }
        long lag = 0;
        for (TopicPartition tp : c.assignment()) {
            store.applied(tp.partition(), c.position(tp));
            lag += c.currentLag(tp).orElse(0);
        }
        metrics.eventLagRecords.set(lag);
    }

    @Override
    public Future<?> stop() {
        running = false;
        Consumer<String, JobEvent> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        return vertx.executeBlocking(() -> {
            thread.join(10_000);
            return null;
        });
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.wire.WireMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes groups of records atomically with a transactional producer: a submission's queued event and its tasks, or
 * a cancellation's control message and event, become visible to {@code read_committed} consumers together or not at
 * all, so a client that gets 202 has its job on the broker, and one that gets 503 normally left nothing behind (a
 * commit that timed out can still complete: the 503 names the job, so the client can look).
 * <p>
 * One thread owns the producer. It commits every group waiting at that moment in one transaction (group commit), so
 * concurrent submissions share the commit's round trips. A group fails when its transaction fails or when it waited
 * longer than the timeout; after an error the producer is closed and a new one, with the same transactional id,
 * resolves whatever the broker still holds of the failed transaction before the next commit.
 */
final class TransactionalPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionalPublisher.class);
    private static final int MAX_GROUPS_PER_TRANSACTION = 256;

    private record Group(List<ProducerRecord<String, WireMessage>> records,
                         CompletableFuture<List<RecordMetadata>> result, long deadlineNanos) {
    }

    private final Supplier<Producer<String, WireMessage>> factory;
    private final Duration timeout;
    private final BlockingQueue<Group> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean running = true;
    private Producer<String, WireMessage> producer;

    /**
     * @param factory creates the transactional producer (called again after a failure)
     * @param timeout how long a group may wait for its commit
     */
    TransactionalPublisher(Supplier<Producer<String, WireMessage>> factory, Duration timeout) {
        this.factory = factory;
        this.timeout = timeout;
        this.thread = new Thread(this::run, "farm-publisher");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Writes {@code records} in one transaction; completes with their metadata once committed. */
    CompletableFuture<List<RecordMetadata>> publish(List<ProducerRecord<String, WireMessage>> records) {
        CompletableFuture<List<RecordMetadata>> result = new CompletableFuture<>();
        if (!running) {
            result.completeExceptionally(new IllegalStateException("publisher closed"));
            return result;
        }
        queue.add(new Group(List.copyOf(records), result, System.nanoTime() + timeout.toNanos()));
        return result;
    }

    private void run() {
        while (running) {
            List<Group> groups = new ArrayList<>();
            try {
                Group first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                groups.add(first);
                queue.drainTo(groups, MAX_GROUPS_PER_TRANSACTION - 1);
                commit(groups);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(groups, e);
                break;
            }
        }
        List<Group> left = new ArrayList<>();
        queue.drainTo(left);
        fail(left, new IllegalStateException("publisher closed"));
        closeProducer();
    }

    private void commit(List<Group> groups) {
        long now = System.nanoTime();
        List<Group> live = new ArrayList<>();
        for (Group g : groups) {
            if (g.deadlineNanos() - now < 0) {
                g.result().completeExceptionally(new TimeoutException("not committed within " + timeout));
            } else {
                live.add(g);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        try {
            if (producer == null) {
                producer = factory.get();
                producer.initTransactions();
            }
            producer.beginTransaction();
            List<List<Future<RecordMetadata>>> sent = new ArrayList<>();
            for (Group g : live) {
                List<Future<RecordMetadata>> futures = new ArrayList<>();
                for (ProducerRecord<String, WireMessage> r : g.records()) {
                    futures.add(producer.send(r));
                }
                sent.add(futures);
            }
            producer.commitTransaction();
            for (int i = 0; i < live.size(); i++) {
                List<RecordMetadata> metadata = new ArrayList<>();
                for (Future<RecordMetadata> f : sent.get(i)) {
                    metadata.add(f.get());
                }
                live.get(i).result().complete(metadata);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(live, e);
            closeProducer();
        } catch (RuntimeException | ExecutionException e) {
            // KafkaException, and the IllegalStateException of a producer in a state it cannot send from: either way
            // the groups are answered and the producer made usable again, so the publishing thread never dies
            LOG.warn("transaction of {} group(s) failed: {}", live.size(), e.toString());
            fail(live, e);
            recover();
        }
    }

    /**
     * Ends a failed transaction at once, so that it does not hold back {@code read_committed} consumers until its
     * timeout: abort it, or when the producer cannot (fenced, or a commit that timed out), replace the producer,
     * whose {@code initTransactions} completes or aborts the old transaction on the broker.
     */
    private void recover() {
        if (producer == null) {
            return;
        }
        try {
            producer.abortTransaction();
            return;
        } catch (RuntimeException e) {
            LOG.debug("abort failed, replacing the producer: {}", e.toString());
        }
        closeProducer();
        try {
            producer = factory.get();
            producer.initTransactions();
        } catch (RuntimeException e) {
            LOG.warn("cannot start a new transactional producer yet: {}", e.toString());
            closeProducer();
        }
    }

    private static void fail(List<Group> groups, Throwable cause) {
        groups.forEach(g -> g.result().completeExceptionally(cause));
    }

    private void closeProducer() {
        if (producer != null) {
            try {
                producer.close(Duration.ofSeconds(1));
            } catch (KafkaException e) {
                LOG.debug("closing the producer: {}", e.toString());
            }
            producer = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}

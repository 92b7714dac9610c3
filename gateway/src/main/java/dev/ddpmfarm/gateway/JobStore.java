package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobPage;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.JobType;
import dev.ddpmfarm.common.wire.StatusEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every job the farm knows, rebuilt from {@code farm.events.v1}: the event consumer {@link #apply applies} each
 * record in partition order; HTTP and WebSocket handlers read. A gateway restart therefore loses nothing, and every
 * gateway of a cluster holds the same state. Tenants are kept apart: every lookup takes the tenant, and another
 * tenant's job is simply not found.
 */
final class JobStore {
    private static final Logger LOG = LoggerFactory.getLogger(JobStore.class);
    private static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);

    /** A remembered {@code Idempotency-Key}. */
    record Idempotency(String jobId, String requestHash, Instant createdAt) {
    }

    /**
     * A WebSocket subscription: the events to send first; whether the job was unfinished when it was made, so that the
     * listener will see what follows (a job that finishes later reaches the listener, not this snapshot);
     * {@link #cancel()} when the socket closes.
     */
    record Subscription(List<JobEvent> replay, boolean live, Runnable cancel) {
    }

    private final int maxEventsPerJob;
    private final Map<String, JobState> jobs = new ConcurrentHashMap<>();
    private final Map<String, NavigableMap<String, JobState>> byTenant = new ConcurrentHashMap<>();
    /** Unfinished jobs per tenant, kept as events arrive: the queue cap is checked on every submission. */
    private final Map<String, AtomicLong> activeByTenant = new ConcurrentHashMap<>();
    private final Map<String, Idempotency> idempotency = new ConcurrentHashMap<>();
    private final Map<Integer, Long> applied = new ConcurrentHashMap<>();
    private final Map<Integer, List<Waiter>> waiters = new ConcurrentHashMap<>();
    private final AtomicLong eventsApplied = new AtomicLong();
    private final AtomicLong eventsIgnored = new AtomicLong();

    private record Waiter(long offset, CompletableFuture<Void> done) {
    }

    JobStore(int maxEventsPerJob) {
        this.maxEventsPerJob = maxEventsPerJob;
    }

    /**
     * Applies one record of {@code farm.events.v1} read at {@code partition}/{@code offset}. A job is created by its
     * {@code status queued} record; records of unknown jobs or of the wrong tenant are ignored.
     */
    void apply(JobEvent event, int partition, long offset) {
        JobState job = jobs.get(event.jobId());
        if (job == null && event instanceof StatusEvent s && s.submission() != null) {
            job = new JobState(s, maxEventsPerJob);
            jobs.put(job.id(), job);
            byTenant.computeIfAbsent(job.tenant(), t -> new ConcurrentSkipListMap<>(Comparator.reverseOrder()))
                    .put(job.id(), job);
            activeByTenant.computeIfAbsent(job.tenant(), t -> new AtomicLong()).incrementAndGet();
            if (s.submission().idempotencyKey() != null) {
                idempotency.put(idempotencyKey(job.tenant(), s.submission().idempotencyKey()),
                        new Idempotency(job.id(), s.submission().requestHash(), s.at()));
            }
            eventsApplied.incrementAndGet();
        } else if (job != null && job.tenant().equals(event.tenant())
                && !(event instanceof StatusEvent s && s.submission() != null)) {
            if (job.apply(event)) {
                activeByTenant.get(job.tenant()).decrementAndGet();
            }
            eventsApplied.incrementAndGet();
        } else {
            eventsIgnored.incrementAndGet();
            LOG.debug("ignored event {} of job {} at {}/{}", event.getClass().getSimpleName(), event.jobId(),
                    partition, offset);
        }
        applied(partition, offset + 1);
    }

    /** Records that the consumer's position on {@code partition} reached {@code position}. */
    void applied(int partition, long position) {
        applied.merge(partition, position, Math::max);
        List<Waiter> list = waiters.get(partition);
        if (list != null) {
            synchronized (list) {
                list.removeIf(w -> {
                    if (w.offset() < position) {
                        w.done().complete(null);
                        return true;
                    }
                    return false;
                });
            }
        }
    }

    /** Completes once the record at {@code partition}/{@code offset} has been applied. */
    CompletableFuture<Void> awaitApplied(int partition, long offset) {
        List<Waiter> list = waiters.computeIfAbsent(partition, p -> new ArrayList<>());
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (list) {
            if (applied.getOrDefault(partition, 0L) > offset) {
                done.complete(null);
            } else {
                list.add(new Waiter(offset, done));
            }
        }
        return done;
    }

    /** Job {@code id} if it belongs to {@code tenant}. */
    Optional<JobState> find(String tenant, String id) {
        JobState job = jobs.get(id);
        return job != null && job.tenant().equals(tenant) ? Optional.of(job) : Optional.empty();
    }

    /** Job {@code id} whoever owns it: only for requests that prove access otherwise (a signed file URL). */
    Optional<JobState> findAnyTenant(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /**
     * The tenant's jobs, newest first, optionally of one status and type; {@code cursor} is the last id of the
     * previous page.
     */
    JobPage list(String tenant, JobStatus status, JobType type, int limit, String cursor) {
        NavigableMap<String, JobState> all = byTenant.getOrDefault(tenant, new ConcurrentSkipListMap<>());
        NavigableMap<String, JobState> after = cursor == null ? all : all.tailMap(cursor, false);
        List<JobDocument> page = new ArrayList<>();
        String last = null;
        boolean more = false;
        for (JobState job : after.values()) {
            JobDocument doc = job.document();
            if ((status == null || doc.status() == status) && (type == null || doc.type() == type)) {
                if (page.size() == limit) {
                    more = true;
                    break;
                }
                page.add(doc);
                last = doc.id();
            }
        }
        return new JobPage(page, more ? last : null);
    }

    /** The job an {@code Idempotency-Key} of {@code tenant} created within the last 24 hours. */
    Optional<Idempotency> idempotent(String tenant, String key, Instant now) {
        Idempotency found = idempotency.get(idempotencyKey(tenant, key));
        return found != null && found.createdAt().plus(IDEMPOTENCY_WINDOW).isAfter(now) ? Optional.of(found)
                : Optional.empty();
    }

    private static String idempotencyKey(String tenant, String key) {
        return tenant + "\n" + key;
    }

    /** Subscribes to job {@code id}'s client event stream (see {@link JobState#subscribe}). */
    Subscription subscribe(JobState job, Long since, Consumer<JobEvent> listener) {
        return job.subscribe(since, listener);
    }

    /** Unfinished jobs of {@code tenant}. */
    long activeJobs(String tenant) {
        AtomicLong active = activeByTenant.get(tenant);
        return active == null ? 0 : active.get();
    }

    /** How many jobs the store holds, over all tenants. */
    int size() {
        return jobs.size();
    }

    /** Jobs by status, over all tenants. */
    Map<JobStatus, Long> countByStatus() {
        Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) {
            counts.put(s, 0L);
        }
        jobs.values().forEach(j -> counts.merge(j.status(), 1L, Long::sum));
        return counts;
    }

    /** Tasks not yet started by any worker, and their samples, over all unfinished jobs. */
    long[] queueDepth() {
        long[] depth = new long[2];
        for (JobState j : jobs.values()) {
            long[] q = j.queued();
            depth[0] += q[0];
            depth[1] += q[1];
        }
        return depth;
    }

    long eventsApplied() {
        return eventsApplied.get();
    }

    long eventsIgnored() {
        return eventsIgnored.get();
    }
}

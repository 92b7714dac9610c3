package dev.ddpmfarm.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.wire.ErrorEvent;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class JobStoreTest {
    private static final Instant T0 = Instant.parse("2026-11-25T00:00:00Z");
    private final JobPlanner planner = new JobPlanner(256, 12);

    private StatusEvent queued(String id, int count) {
        GenerateRequest request = new GenerateRequest(null, count, null, 10, null, null, 7L, null, null, null, null, null, null,
                null, null, null, null);
        return planner.plan(id, "acme", T0, request, null, "hash").queued();
    }

    private static String id(int ms) {
        return JobIds.next(T0.plusMillis(ms), RandomGenerator.getDefault());
    }

    /** A job's topic records: queued, two shards running with progress and a frame, then both results. */
    private List<JobEvent> history(String id) {
        return List.of(queued(id, 300),
                StatusEvent.of(id, "acme", 0, T0, JobStatus.RUNNING),
                ProgressEvent.of(id, "acme", 0, T0, 5, 10, 500, 0, 150),
                FrameEvent.of(id, "acme", 0, T0, 5, 500, ObjectKeys.frame(5, false), ObjectKeys.frame(5, true)),
                ProgressEvent.of(id, "acme", 1, T0, 10, 10, 0, 150, 150),
                ResultEvent.of(id, "acme", 1, T0, ObjectKeys.shardManifest(1)),
                ResultEvent.of(id, "acme", 0, T0, ObjectKeys.shardManifest(0)));
    }

    private static List<JobEvent> stream(JobStore store, String id) {
        return store.subscribe(store.find("acme", id).orElseThrow(), 0L, e -> { }).replay();
    }

    @Test
    @DisplayName("topic records become the client stream seq 1, 2, 3, …: one running, summed progress, one result, "
            + "then succeeded")
    void derivation() {
        String id = id(1);
        JobStore store = new JobStore(1000);
        long offset = 0;
        for (JobEvent e : history(id)) {
            store.apply(e, 3, offset++);
        }
        List<JobEvent> events = stream(store, id);
        assertEquals(List.of("status", "status", "progress", "frame", "progress", "result", "status"),
                events.stream().map(e -> e.getClass().getSimpleName().replace("Event", "").toLowerCase()).toList());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), events.stream().map(JobEvent::seq).toList());
        assertEquals(150, ((ProgressEvent) events.get(4)).samplesDone());
        assertEquals(300, ((ProgressEvent) events.get(4)).count());
        assertEquals(JobStatus.SUCCEEDED, ((StatusEvent) events.get(6)).status());
        assertEquals(300, store.find("acme", id).orElseThrow().document().progress().samplesDone());
    }

    @Test
    @DisplayName("a tenant's unfinished jobs are counted as records arrive; records after the end change nothing")
    void activeJobs() {
        JobStore store = new JobStore(1000);
        String a = id(10);
        String b = id(11);
        long offset = 0;
        store.apply(queued(a, 300), 0, offset++);
        store.apply(queued(b, 300), 0, offset++);
        assertEquals(2, store.activeJobs("acme"));
        assertEquals(0, store.activeJobs("other"));
        for (JobEvent e : history(a)) {
            store.apply(e, 0, offset++);
        }
        assertEquals(1, store.activeJobs("acme"));
        store.apply(ErrorEvent.of(a, "acme", 0, T0, "late"), 0, offset++);
        store.apply(StatusEvent.of(b, "acme", JobEvent.JOB_LEVEL, T0, JobStatus.CANCELLED), 0, offset++);
        store.apply(ErrorEvent.of(b, "acme", 0, T0, "after the cancel"), 0, offset++);
        assertEquals(0, store.activeJobs("acme"));
    }

    @Test
    @DisplayName("replaying the same records into a new store gives the same stream (a restart keeps every seq)")
    void deterministic() {
        String id = id(2);
        JobStore a = new JobStore(1000);
        JobStore b = new JobStore(1000);
        long offset = 0;
        for (JobEvent e : history(id)) {
            a.apply(e, 0, offset);
            b.apply(e, 0, offset++);
        }
        assertEquals(stream(a, id), stream(b, id));
    }

    @Test
    @DisplayName("a subscriber gets the snapshot first, then live events; nothing is lost or repeated")
    void subscription() {
        String id = id(3);
        JobStore store = new JobStore(1000);
        List<JobEvent> history = history(id);
        store.apply(history.get(0), 0, 0);
        store.apply(history.get(1), 0, 1);
        List<JobEvent> live = new ArrayList<>();
        JobStore.Subscription sub = store.subscribe(store.find("acme", id).orElseThrow(), null, live::add);
        StatusEvent snapshot = assertInstanceOf(StatusEvent.class, sub.replay().get(0));
        assertEquals(JobStatus.RUNNING, snapshot.status());
        assertEquals(2, snapshot.seq());
        for (int i = 2; i < history.size(); i++) {
            store.apply(history.get(i), 0, i);
        }
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L), live.stream().map(JobEvent::seq).toList());
        JobStore.Subscription after = store.subscribe(store.find("acme", id).orElseThrow(), 7L, e -> { });
        assertTrue(after.replay().isEmpty(), "a client that has everything gets nothing more");
        assertFalse(after.live(), "and the socket closes at once");
    }

    @Test
    @DisplayName("a subscriber that has everything so far follows the job even if it finishes right after subscribing")
    void finishesAfterSubscribing() {
        String id = id(7);
        JobStore store = new JobStore(1000);
        store.apply(queued(id, 4), 0, 0);
        List<JobEvent> live = new ArrayList<>();
        JobStore.Subscription sub = store.subscribe(store.find("acme", id).orElseThrow(), 1L, live::add);
        store.apply(ErrorEvent.of(id, "acme", 0, T0, "boom"), 0, 1);
        // the job is failed now; the subscription, made before, still says to wait for its events
        assertEquals(JobStatus.FAILED, store.find("acme", id).orElseThrow().status());
        assertTrue(sub.replay().isEmpty());
        assertTrue(sub.live());
        assertEquals(List.of(2L, 3L), live.stream().map(JobEvent::seq).toList());
    }

    @Test
    @DisplayName("when the events after since are no longer kept, the subscriber gets the snapshot instead")
    void trimmed() {
        String id = id(4);
        JobStore store = new JobStore(3);
        long offset = 0;
        for (JobEvent e : history(id)) {
            store.apply(e, 0, offset++);
        }
        List<JobEvent> replay = store.subscribe(store.find("acme", id).orElseThrow(), 1L, e -> { }).replay();
        assertEquals(1, replay.size());
        assertEquals(7, replay.get(0).seq());
        assertEquals(List.of(6L, 7L), store.subscribe(store.find("acme", id).orElseThrow(), 5L, e -> { }).replay()
                .stream().map(JobEvent::seq).toList());
    }

    @Test
    @DisplayName("records after the terminal status, of other tenants, or of unknown jobs change nothing")
    void ignored() {
        String id = id(5);
        JobStore store = new JobStore(1000);
        store.apply(queued(id, 4), 0, 0);
        store.apply(ErrorEvent.of(id, "acme", 0, T0, "boom"), 0, 1);
        store.apply(ResultEvent.of(id, "acme", 0, T0, ObjectKeys.MANIFEST), 0, 2);
        store.apply(ProgressEvent.of(id, "globex", 0, T0, 1, 10, 9, 0, 4), 0, 3);
        store.apply(StatusEvent.of(id(6), "acme", 0, T0, JobStatus.RUNNING), 0, 4);
        assertEquals(JobStatus.FAILED, store.find("acme", id).orElseThrow().status());
        assertEquals(3, store.subscribe(store.find("acme", id).orElseThrow(), null, e -> { }).replay().get(0).seq());
        assertTrue(store.find("globex", id).isEmpty(), "another tenant does not see the job");
        assertEquals(2, store.eventsIgnored(), "the other tenant's record and the unknown job's");
    }

    @Test
    @DisplayName("waiting for an offset completes once the consumer has applied it")
    void awaitApplied() {
        JobStore store = new JobStore(10);
        var waiting = store.awaitApplied(2, 5);
        store.applied(2, 5);
        assertTrue(!waiting.isDone());
        store.applied(2, 6);
        assertTrue(waiting.isDone());
        assertTrue(store.awaitApplied(2, 3).isDone());
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.wire.ErrorEvent;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobRequest;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.Progress;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Submission;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * One job as the gateway knows it: its document and its client event stream, derived from the job's records of
 * {@code farm.events.v1} in partition order (see {@link JobEvent} for the rules). Each topic record yields zero or
 * more client events, numbered seq 1, 2, 3, …; the derivation is a pure function of the records, so a gateway that
 * replays the topic after a restart assigns the same numbers. Thread-safe: every method synchronizes on the job.
 */
final class JobState {

    /** A shard's state as reported by workers. */
    private enum ShardState { QUEUED, RUNNING, DONE }

    private final String id;
    private final String tenant;
    private final Submission submission;
    private final Instant createdAt;
    private final int[] shardStart;
    private final ShardState[] shards;
    private final long[] shardDone;
    private final int[] shardStep;
    private final int maxEvents;
    private final Deque<JobEvent> events = new ArrayDeque<>();
    /** The newest seq that left {@link #events} for its bound: a replay from before it cannot be whole. */
    private long trimmedThrough;
    private final List<Consumer<JobEvent>> listeners = new ArrayList<>();

    private JobStatus status = JobStatus.QUEUED;
    private Instant startedAt;
    private Instant finishedAt;
    private String error;
    private int totalSteps;
    private long seq;
    private Instant lastEventAt;

    /** The job created by its {@code status queued} record (which must carry the submission). */
    JobState(StatusEvent queued, int maxEvents) {
        this.id = queued.jobId();
        this.tenant = queued.tenant();
        this.submission = queued.submission();
        this.createdAt = queued.at();
        this.maxEvents = maxEvents;
        JobRequest request = submission.request();
        int n = submission.shards();
        this.shards = new ShardState[n];
        this.shardDone = new long[n];
        this.shardStep = new int[n];
        this.shardStart = new int[n + 1];
        Arrays.fill(shards, ShardState.QUEUED);
        for (int s = 0; s <= n; s++) {
            shardStart[s] = JobPlanner.shardStart(request.sampleCount(), n, s);
        }
        this.totalSteps = request instanceof GenerateRequest g && g.steps() != null ? g.steps() : 0;
        emit(StatusEvent.of(id, tenant, JobEvent.JOB_LEVEL, createdAt, JobStatus.QUEUED).withProgress(progress()));
    }

    String id() {
        return id;
    }

    String tenant() {
        return tenant;
    }

    synchronized JobStatus status() {
        return status;
    }

    /**
     * Applies one topic record of this job (not its first, {@code status queued}). Records after the job finished,
     * of unknown shards, or unsafe frame paths are ignored; shard statuses other than running carry no information
     * (a shard's {@code result} is its success, its {@code error} its failure).
     *
     * @return whether this event finished the job
     */
    synchronized boolean apply(JobEvent event) {
        if (status.terminal()) {
            return false;
        }
        update(event);
        return status.terminal();
    }

    private void update(JobEvent event) {
        int shard = event.shard();
        if (shard != JobEvent.JOB_LEVEL && shard >= shards.length) {
            return;
        }
        if (shard == JobEvent.JOB_LEVEL) {
            if (event instanceof StatusEvent st && st.status() == JobStatus.CANCELLED) {
                finish(JobStatus.CANCELLED, st.at(), null);
            }
        } else if (event instanceof StatusEvent st) {
            if (st.status() == JobStatus.RUNNING) {
                start(shard, st.at());
            }
        } else if (event instanceof ProgressEvent p) {
            start(shard, p.at());
            shardDone[shard] = Math.max(shardDone[shard], Math.min(p.samplesDone(), shardSize(shard)));
            totalSteps = p.totalSteps();
            shardStep[shard] = Math.max(shardStep[shard], p.step());
            emit(p.withJobProgress(step(), samplesDone(), count()));
        } else if (event instanceof FrameEvent f) {
            if (ObjectKeys.safeRelativePath(f.xt()) && ObjectKeys.safeRelativePath(f.x0())) {
                start(shard, f.at());
                emit(f);
            }
        } else if (event instanceof ResultEvent r) {
            start(shard, r.at());
            shards[shard] = ShardState.DONE;
            shardDone[shard] = shardSize(shard);
            shardStep[shard] = Integer.MAX_VALUE;
            if (Arrays.stream(shards).allMatch(x -> x == ShardState.DONE)) {
                emit(ResultEvent.of(id, tenant, JobEvent.JOB_LEVEL, r.at(), JobDocument.Links.of(id).results()));
                finish(JobStatus.SUCCEEDED, r.at(), null);
            }
        } else if (event instanceof ErrorEvent e) {
            emit(e);
            finish(JobStatus.FAILED, e.at(), e.message());
        }
    }

    private long shardSize(int shard) {
        return shardStart[shard + 1] - shardStart[shard];
    }

    private void start(int shard, Instant at) {
        if (shards[shard] == ShardState.QUEUED) {
            shards[shard] = ShardState.RUNNING;
        }
        if (status == JobStatus.QUEUED) {
            status = JobStatus.RUNNING;
            startedAt = at;
            emit(StatusEvent.of(id, tenant, JobEvent.JOB_LEVEL, at, JobStatus.RUNNING).withProgress(progress()));
        }
    }

    private void finish(JobStatus terminal, Instant at, String message) {
        status = terminal;
        finishedAt = at;
        error = message;
        StatusEvent s = StatusEvent.of(id, tenant, JobEvent.JOB_LEVEL, at, terminal).withProgress(progress());
        emit(message == null ? s : s.withError(message));
        listeners.clear();
    }

    private void emit(JobEvent event) {
        JobEvent numbered = event.withSeq(++seq);
        lastEventAt = numbered.at();
        events.addLast(numbered);
        if (events.size() > maxEvents) {
            trimmedThrough = events.removeFirst().seq();
        }
        for (Consumer<JobEvent> listener : List.copyOf(listeners)) {
            listener.accept(numbered);
        }
    }

    private long samplesDone() {
        long sum = 0;
        for (long d : shardDone) {
            sum += d;
        }
        return sum;
    }

    /**
     * The job's step: the mean over its samples of their shard's latest step (a finished shard counts as all steps
     * taken), so that a job split over many tasks moves on smoothly as each of them does.
     */
    private int step() {
        long sum = 0;
        for (int s = 0; s < shards.length; s++) {
            sum += shardSize(s) * Math.min(shardStep[s], totalSteps);
        }
        return (int) (sum / Math.max(1, count()));
    }

    private long count() {
        return submission.request().sampleCount();
    }

    private Progress progress() {
        return new Progress(step(), totalSteps, samplesDone(), count());
    }

    /** The job document. */
    synchronized JobDocument document() {
        JobRequest request = submission.request();
        return new JobDocument(id, tenant, request.type(), status, request, request.seed(), shards.length,
                progress(), createdAt, startedAt, finishedAt, error, JobDocument.Links.of(id));
    }

    /** Unfinished tasks that no worker has started, and their samples. */
    synchronized long[] queued() {
        long tasks = 0;
        long samples = 0;
        if (!status.terminal()) {
            for (int s = 0; s < shards.length; s++) {
                if (shards[s] == ShardState.QUEUED) {
                    tasks++;
                    samples += shardSize(s);
                }
            }
        }
        return new long[]{tasks, samples};
    }

    /**
     * What a new WebSocket subscriber gets first, and registration for what follows (atomically, so nothing is lost
     * or sent twice). Without {@code since}: a {@code status} event with the current status and progress, numbered
     * with the last seq. With {@code since}: the events after it; when some of them are no longer kept, the status
     * event instead. A listener is registered only while the job is not finished.
     *
     * @return the events to send now (the last is the terminal status when the job is finished), and whether the
     *         listener was registered
     */
    synchronized JobStore.Subscription subscribe(Long since, Consumer<JobEvent> listener) {
        List<JobEvent> replay = new ArrayList<>();
        if (since != null && since >= trimmedThrough) {
            events.stream().filter(e -> e.seq() > since).forEach(replay::add);
        } else {
            StatusEvent snapshot = new StatusEvent(StatusEvent.SCHEMA_VERSION, id, tenant, seq, JobEvent.JOB_LEVEL,
                    lastEventAt, status, progress(), error, null);
            replay.add(snapshot);
        }
        boolean live = !status.terminal();
        if (live) {
            listeners.add(listener);
        }
        return new JobStore.Subscription(replay, live, () -> unsubscribe(listener));
    }

    synchronized void unsubscribe(Consumer<JobEvent> listener) {
        listeners.remove(listener);
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.clients.kafka.FarmTopics;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobRequest;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Submission;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Topics;
import dev.ddpmfarm.common.wire.WireMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Splits an accepted job into the records written atomically at submission: the job's {@code status queued} event
 * (with the {@link Submission}, so the job store can be rebuilt from the events topic alone) and its tasks.
 * A shardable job of n samples becomes ⌈n / shardSize⌉ tasks of consecutive global sample indices, as even as
 * possible; each task goes to its own partition of {@code farm.jobs.v1} ({@link FarmTopics#partitionForShard}).
 */
final class JobPlanner {
    private final int shardSize;
    private final int jobPartitions;

    JobPlanner(int shardSize, int jobPartitions) {
        this.shardSize = shardSize;
        this.jobPartitions = jobPartitions;
    }

    /** What one submission writes: the queued event and the tasks. */
    record Plan(StatusEvent queued, List<Task> tasks) {
    }

    /** Plans job {@code id} of {@code tenant} for the resolved {@code request}. */
    Plan plan(String id, String tenant, Instant now, JobRequest request, String idempotencyKey, String requestHash) {
        int count = request.sampleCount();
        int shards = request.shardable() ? (count + shardSize - 1) / shardSize : 1;
        StatusEvent queued = new StatusEvent(WireMessage.SCHEMA_VERSION, id, tenant, 0, JobEvent.JOB_LEVEL, now,
                JobStatus.QUEUED, null, null, new Submission(request, shards, idempotencyKey, requestHash));
        List<Task> tasks = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) {
            tasks.add(new Task(WireMessage.SCHEMA_VERSION, id, tenant, s, shards, shardStart(count, shards, s),
                    shardStart(count, shards, s + 1), request, 1, now));
        }
        return new Plan(queued, tasks);
    }

    /** The records of a plan, the queued event first; each task on its shard's partition of the jobs topic. */
    List<ProducerRecord<String, WireMessage>> records(Plan plan) {
        List<ProducerRecord<String, WireMessage>> records = new ArrayList<>();
        records.add(new ProducerRecord<>(Topics.EVENTS, plan.queued().jobId(), plan.queued()));
        for (Task t : plan.tasks()) {
            records.add(new ProducerRecord<>(Topics.JOBS,
                    FarmTopics.partitionForShard(t.jobId(), t.shard(), jobPartitions), t.jobId(), t));
        }
        return records;
    }

    /** The first sample index of shard {@code s} of {@code shards} over {@code count} samples (s = shards: count). */
    static int shardStart(int count, int shards, int s) {
        return (int) ((long) s * count / shards);
    }
}

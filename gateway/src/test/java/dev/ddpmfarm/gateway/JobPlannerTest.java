package dev.ddpmfarm.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.InputSpec;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.RateDistortionRequest;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Topics;
import java.time.Instant;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobPlannerTest {
    private static final Instant NOW = Instant.parse("2026-11-25T00:00:00Z");
    private static final String ID = JobIds.next(NOW, RandomGenerator.getDefault());
    private final JobPlanner planner = new JobPlanner(256, 12);

    private static GenerateRequest generate(int count) {
        return new GenerateRequest(null, count, null, 10, null, null, 1L, null, null, null, null, null, null, null, null, null, null);
    }

    @ParameterizedTest(name = "{0} samples → {1} tasks")
    @CsvSource({"1, 1", "256, 1", "257, 2", "600, 3", "1000000, 3907"})
    @DisplayName("a generate job becomes ⌈n / 256⌉ tasks of consecutive global indices, sizes within one of each other")
    void shards(int count, int tasks) {
        List<Task> plan = planner.plan(ID, "acme", NOW, generate(count), null, "h").tasks();
        assertEquals(tasks, plan.size());
        int next = 0;
        for (Task t : plan) {
            assertEquals(next, t.start(), "no gap, no overlap");
            assertEquals(plan.size(), t.shards());
            next = t.end();
        }
        assertEquals(count, next);
        int min = plan.stream().mapToInt(Task::size).min().orElseThrow();
        int max = plan.stream().mapToInt(Task::size).max().orElseThrow();
        assertEquals(true, max <= 256 && max - min <= 1, min + " … " + max);
    }

    @Test
    @DisplayName("other job types are one task over all their inputs")
    void unsharded() {
        RateDistortionRequest rd = new RateDistortionRequest(null,
                new InputSpec(dev.ddpmfarm.common.wire.Dataset.FASHION_MNIST_TEST, null, 1000, null), null, 3L, null);
        List<Task> plan = planner.plan(ID, "acme", NOW, rd, null, "h").tasks();
        assertEquals(1, plan.size());
        assertEquals(1000, plan.get(0).end());
    }

    @Test
    @DisplayName("the queued event comes first on the events topic, then each task on its shard's partition")
    void records() {
        JobPlanner.Plan plan = planner.plan(ID, "acme", NOW, generate(600), "k", "h");
        var records = planner.records(plan);
        assertEquals(Topics.EVENTS, records.get(0).topic());
        assertEquals(plan.queued(), records.get(0).value());
        assertEquals(3, records.stream().filter(r -> r.topic().equals(Topics.JOBS)).map(r -> r.partition())
                .distinct().count());
        records.forEach(r -> assertEquals(ID, r.key()));
    }
}

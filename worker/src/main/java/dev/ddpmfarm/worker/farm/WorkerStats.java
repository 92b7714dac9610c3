package dev.ddpmfarm.worker.farm;

import java.util.concurrent.atomic.AtomicLong;

/** What a worker has done, for its periodic log line and for tests. Written by the sampling thread only. */
public final class WorkerStats {
    public final AtomicLong steps = new AtomicLong();
    public final AtomicLong sampleSteps = new AtomicLong();
    public final AtomicLong stepNanos = new AtomicLong();
    public final AtomicLong tasksDone = new AtomicLong();
    public final AtomicLong resumed = new AtomicLong();
    public final AtomicLong deadLettered = new AtomicLong();

    void step(int samples, long nanos) {
        steps.incrementAndGet();
        sampleSteps.addAndGet(samples);
        stepNanos.addAndGet(nanos);
    }

    @Override
    public String toString() {
        long n = steps.get();
        return String.format("%d forward passes, %.1f samples per pass, %.1f ms per pass, %d tasks done, "
                        + "%d resumed from a checkpoint, %d dead-lettered", n, n == 0 ? 0.0 : (double) sampleSteps.get() / n,
                n == 0 ? 0.0 : stepNanos.get() / 1e6 / n, tasksDone.get(), resumed.get(), deadLettered.get());
    }
}

package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.metrics.PrometheusText;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a worker has done: served on its {@code GET /metrics} in the Prometheus format, logged every minute, read by
 * tests. Written by the sampling thread only.
 */
public final class WorkerStats {
    public final AtomicLong forwardPasses = new AtomicLong();
    /** Forward passes that served samples of more than one job: continuous batching across jobs at work. */
    public final AtomicLong sharedPasses = new AtomicLong();
    public final AtomicLong sampleSteps = new AtomicLong();
    public final AtomicLong stepNanos = new AtomicLong();
    public final AtomicLong samplesDone = new AtomicLong();
    public final AtomicLong tasksDone = new AtomicLong();
    public final AtomicLong resumed = new AtomicLong();
    public final AtomicLong retried = new AtomicLong();
    public final AtomicLong deadLettered = new AtomicLong();
    /** Turns of the sampling loop ended by an unexpected exception (a defect: logged, and the loop goes on). */
    public final AtomicLong loopFailures = new AtomicLong();
    public final AtomicLong lastBatchSamples = new AtomicLong();
    public final AtomicLong tasksRunning = new AtomicLong();
    public final AtomicLong samplesWaiting = new AtomicLong();

    void step(int samples, int jobs, long nanos) {
        forwardPasses.incrementAndGet();
        if (jobs > 1) {
            sharedPasses.incrementAndGet();
        }
        sampleSteps.addAndGet(samples);
        stepNanos.addAndGet(nanos);
        lastBatchSamples.set(samples);
    }

    /** The metrics in the Prometheus text format. */
    public String render() {
        return new PrometheusText()
                .counter("farm_worker_forward_passes_total", "Forward passes of the denoiser.", forwardPasses.get())
                .counter("farm_worker_shared_forward_passes_total",
                        "Forward passes that served samples of more than one job.", sharedPasses.get())
                .counter("farm_worker_sample_steps_total", "Reverse steps taken, summed over samples.",
                        sampleSteps.get())
                .counter("farm_worker_step_seconds_total", "Time in forward passes and sampler updates.",
                        stepNanos.get() / 1e9)
                .gauge("farm_worker_batch_samples", "Samples in the latest forward pass.", lastBatchSamples.get())
                .counter("farm_worker_samples_total", "Samples finished.", samplesDone.get())
                .counter("farm_worker_tasks_done_total", "Tasks whose results are stored.", tasksDone.get())
                .counter("farm_worker_tasks_resumed_total", "Tasks resumed from a checkpoint.", resumed.get())
                .counter("farm_worker_tasks_retried_total", "Failed tasks re-published for another attempt.",
                        retried.get())
                .counter("farm_worker_tasks_dead_lettered_total", "Records sent to farm.jobs.dlq.v1.",
                        deadLettered.get())
                .counter("farm_worker_loop_failures_total", "Turns of the sampling loop ended by an unexpected error.",
                        loopFailures.get())
                .gauge("farm_worker_tasks_running", "Tasks held by this worker.", tasksRunning.get())
                .gauge("farm_worker_samples_waiting", "Samples waiting for a place in the batch.", samplesWaiting.get())
                .toString();
    }

    @Override
    public String toString() {
        long n = forwardPasses.get();
        return String.format("%d forward passes (%d shared by several jobs), %.1f samples and %.1f ms per pass, "
                        + "%d samples and %d tasks done, %d resumed from a checkpoint, %d retried, %d dead-lettered",
                n, sharedPasses.get(), n == 0 ? 0.0 : (double) sampleSteps.get() / n,
                n == 0 ? 0.0 : stepNanos.get() / 1e6 / n, samplesDone.get(), tasksDone.get(), resumed.get(),
                retried.get(), deadLettered.get());
    }
}

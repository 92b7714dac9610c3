package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.metrics.PrometheusText;
import dev.ddpmfarm.common.wire.JobStatus;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's counters and gauges, written out in the Prometheus text format (version 0.0.4) by
 * {@link #render(JobStore)}: jobs by status, queue depth, submissions, events consumed and the event lag. Workers
 * serve their own (batch size, step latency, samples/s) on their metrics port.
 */
final class GatewayMetrics {
    final AtomicLong jobsSubmitted = new AtomicLong();
    final AtomicLong tasksSubmitted = new AtomicLong();
    final AtomicLong submissionsRejected = new AtomicLong();
    final AtomicLong submissionsUnavailable = new AtomicLong();
    final AtomicLong cancellations = new AtomicLong();
    final AtomicLong webSocketsOpen = new AtomicLong();
    final AtomicLong webSocketEventsSent = new AtomicLong();
    /** Records of {@code farm.events.v1} the gateway has not read yet (sum of partition lags). */
    final AtomicLong eventLagRecords = new AtomicLong();
    /** Age of the newest event when the gateway applied it, in milliseconds. */
    final AtomicLong eventAgeMillis = new AtomicLong();
    final AtomicLong poisonEvents = new AtomicLong();
    /** Whether the thread that applies {@code farm.events.v1} to the job store runs. */
    final AtomicBoolean eventsReading = new AtomicBoolean();

    String render(JobStore store) {
        PrometheusText out = new PrometheusText();
        out.header("farm_jobs", "Jobs known to the gateway, by status.", "gauge");
        for (Map.Entry<JobStatus, Long> e : store.countByStatus().entrySet()) {
            out.sample("farm_jobs", "status=\"" + e.getKey().wireName() + "\"", e.getValue());
        }
        long[] depth = store.queueDepth();
        return out.gauge("farm_queue_depth_tasks", "Tasks of unfinished jobs that no worker has started.", depth[0])
                .gauge("farm_queue_depth_samples", "Samples in tasks that no worker has started.", depth[1])
                .counter("farm_jobs_submitted_total", "Jobs accepted (202).", jobsSubmitted.get())
                .counter("farm_tasks_submitted_total", "Tasks produced to farm.jobs.v1.", tasksSubmitted.get())
                .counter("farm_submissions_rejected_total", "Submissions refused (400, 404, 422, 429).",
                        submissionsRejected.get())
                .counter("farm_submissions_unavailable_total", "Submissions the broker did not take (503).",
                        submissionsUnavailable.get())
                .counter("farm_cancellations_total", "Jobs cancelled through the API.", cancellations.get())
                .counter("farm_events_consumed_total", "Records of farm.events.v1 applied to the job store.",
                        store.eventsApplied())
                .counter("farm_events_ignored_total", "Records of farm.events.v1 of unknown jobs or tenants.",
                        store.eventsIgnored())
                .counter("farm_events_poison_total", "Records of farm.events.v1 that could not be parsed.",
                        poisonEvents.get())
                .gauge("farm_events_consumer_up", "1 while this gateway reads farm.events.v1, 0 once it stopped.",
                        eventsReading.get() ? 1 : 0)
                .gauge("farm_event_lag_records", "Records of farm.events.v1 not yet read by this gateway.",
                        eventLagRecords.get())
                .gauge("farm_event_age_seconds", "Age of the newest event when this gateway applied it.",
                        eventAgeMillis.get() / 1000.0)
                .gauge("farm_websockets_open", "Open WebSocket event streams.", webSocketsOpen.get())
                .counter("farm_websocket_events_sent_total", "Events written to WebSocket clients.",
                        webSocketEventsSent.get())
                .toString();
    }
}

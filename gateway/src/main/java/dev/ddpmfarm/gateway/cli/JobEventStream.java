package dev.ddpmfarm.gateway.cli;

import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A job's event stream (SPEC §4) as a client sees it, over the JDK's WebSocket client: the events in arrival order,
 * then an {@link Ended} saying how the socket closed. Used by the command-line client, the farm benchmark and tests.
 */
public final class JobEventStream implements WebSocket.Listener {
    /** The socket closed ({@code code} and reason) or failed. */
    public record Ended(String why) {
    }

    private record Arrival(Object item, Instant at) {
    }

    private final LinkedBlockingQueue<Arrival> items = new LinkedBlockingQueue<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;
    private Instant arrivedAt;

    private JobEventStream() {
    }

    /**
     * Opens {@code /v1/jobs/{jobId}/events} on the gateway at {@code base}, replaying what came after seq
     * {@code since} when it is not negative.
     */
    public static JobEventStream open(HttpClient http, URI base, String key, String jobId, long since,
                                      Duration timeout) throws InterruptedException, ExecutionException,
            TimeoutException {
        JobEventStream stream = new JobEventStream();
        URI uri = URI.create(base.toString().replaceFirst("^http", "ws") + "/v1/jobs/" + jobId + "/events"
                + (since < 0 ? "" : "?since=" + since));
        stream.socket = http.newWebSocketBuilder().header("Authorization", "Bearer " + key).connectTimeout(timeout)
                .buildAsync(uri, stream).get(timeout.toSeconds(), TimeUnit.SECONDS);
        return stream;
    }

    /** The next {@link JobEvent} or {@link Ended}; null when nothing came within {@code timeout}. */
    public Object next(Duration timeout) throws InterruptedException {
        Arrival a = items.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (a == null) {
            return null;
        }
        arrivedAt = a.at();
        return a.item();
    }

    /** When the item last returned by {@link #next} arrived (to measure event latency). */
    public Instant arrivedAt() {
        return arrivedAt;
    }

    /** Closes the socket from this side. */
    public void close() {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            items.add(new Arrival(Wire.fromJson(partial.toString(), JobEvent.class), Instant.now()));
            partial.setLength(0);
        }
        ws.request(1);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        items.add(new Arrival(new Ended("close " + statusCode + " " + reason), Instant.now()));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        items.add(new Arrival(new Ended("error " + error), Instant.now()));
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;

/**
 * One client's WebSocket on a job's events (SPEC §4), used on the socket's event loop: events go out in seq order as
 * fast as the client reads them. While the socket's write queue is full they wait here, so a replay of thousands of
 * events reaches a client that reads it; a client more than {@code maxWaiting} events behind is closed with 1013 (it
 * reconnects with {@code ?since=}). An event at or below the last one queued is dropped: a gateway behind the client's
 * {@code since} would otherwise send again what the client has. Once this side closes the socket nothing more is
 * written, and the {@link #onClosing} action (ending the subscription) runs without waiting for the client's close
 * frame.
 */
final class EventSocket {
    private final ServerWebSocket ws;
    private final Function<JobEvent, String> render;
    private final int maxWaiting;
    private final Runnable onSent;
    private Runnable onClosing = () -> { };
    private final Deque<JobEvent> waiting = new ArrayDeque<>();
    private long lastQueued;
    private long lastWritten;
    private boolean closing;

    /**
     * @param since  the seq the client has already, or -1
     * @param render the text message of an event
     * @param onSent runs for every event written
     */
    EventSocket(ServerWebSocket ws, long since, Function<JobEvent, String> render, int maxWaiting, Runnable onSent) {
        this.ws = ws;
        this.lastQueued = since;
        this.lastWritten = since;
        this.render = render;
        this.maxWaiting = maxWaiting;
        this.onSent = onSent;
        ws.drainHandler(v -> drain());
    }

    /** Sets what runs, once, when this side closes the socket. */
    void onClosing(Runnable action) {
        onClosing = action;
    }

    /** Queues {@code event} and writes what the socket takes. */
    void send(JobEvent event) {
        if (closing || ws.isClosed() || event.seq() <= lastQueued) {
            return;
        }
        if (waiting.size() >= maxWaiting) {
            close((short) 1013, "client too slow; reconnect with ?since=" + Math.max(lastWritten, 0));
            return;
        }
        waiting.addLast(event);
        lastQueued = event.seq();
        drain();
    }

    /** The client closed the socket: nothing queued goes out. */
    void closed() {
        if (!closing) {
            stop();
        }
    }

    /** Closes the socket from this side: nothing queued or sent later goes out. */
    void close(short code, String reason) {
        if (!closing) {
            stop();
            ws.close(code, reason);
        }
    }

    private void stop() {
        closing = true;
        waiting.clear();
        onClosing.run();
    }

    private void drain() {
        while (!closing && !waiting.isEmpty() && !ws.writeQueueFull()) {
            JobEvent event = waiting.removeFirst();
            Future<Void> written = ws.writeTextMessage(render.apply(event));
            lastWritten = event.seq();
            onSent.run();
            if (event instanceof StatusEvent st && st.status().terminal()) {
                // the close frame goes out after the final status, never ahead of it
                stop();
                written.onComplete(ar -> ws.close((short) 1000, "job " + st.status().wireName()));
            }
        }
    }
}

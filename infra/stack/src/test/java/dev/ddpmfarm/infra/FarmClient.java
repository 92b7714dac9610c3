package dev.ddpmfarm.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** What a user of the farm does, over the JDK's HTTP and WebSocket clients: no farm code on the client side. */
final class FarmClient {
    static final Duration WAIT = Duration.ofSeconds(60);

    private final URI base;
    private final String key;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    FarmClient(URI base, String key) {
        this.base = base;
        this.key = key;
    }

    /** POST /v1/jobs; the job's document once accepted (202). */
    JobDocument submit(String json) throws IOException, InterruptedException {
        HttpResponse<String> r = send("POST", "/v1/jobs", json);
        assertEquals(202, r.statusCode(), r.body());
        return Wire.fromJson(r.body(), JobDocument.class);
    }

    JobDocument job(String id) throws IOException, InterruptedException {
        HttpResponse<String> r = send("GET", "/v1/jobs/" + id, null);
        assertEquals(200, r.statusCode(), r.body());
        return Wire.fromJson(r.body(), JobDocument.class);
    }

    HttpResponse<String> cancel(String id) throws IOException, InterruptedException {
        return send("DELETE", "/v1/jobs/" + id, null);
    }

    Manifest manifest(String id) throws IOException, InterruptedException {
        HttpResponse<String> r = send("GET", "/v1/jobs/" + id + "/results", null);
        assertEquals(200, r.statusCode(), r.body());
        return Wire.fromJson(r.body(), Manifest.class);
    }

    /** GET of a URL relative to the gateway, without the API key (file URLs carry a signature). */
    HttpResponse<byte[]> download(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(url)).timeout(WAIT).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    String metrics() throws IOException, InterruptedException {
        return send("GET", "/metrics", null).body();
    }

    HttpResponse<String> send(String method, String path, String json) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(WAIT)
                .header("Authorization", "Bearer " + key);
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** Opens the job's event stream; events arrive in {@link Events#queue} as they come. */
    Events events(String id) throws Exception {
        Events events = new Events();
        events.ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + key).connectTimeout(WAIT)
                .buildAsync(URI.create(base.toString().replaceFirst("^http", "ws") + "/v1/jobs/" + id + "/events"),
                        events).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return events;
    }

    /** A job's WebSocket: the events in arrival order, then the close. */
    static final class Events implements WebSocket.Listener {
        private static final Object CLOSED = new Object();
        final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        WebSocket ws;

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                queue.add(Wire.fromJson(partial.toString(), JobEvent.class));
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            queue.add(CLOSED);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            queue.add(error);
        }

        /** The next event; fails when none comes in time or the socket closed. */
        JobEvent next() throws InterruptedException {
            Object item = queue.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (item instanceof JobEvent e) {
                return e;
            }
            throw new AssertionError(item == null ? "no event within " + WAIT : "socket ended: " + item);
        }

        /** Every event up to the job's terminal status and the close that follows it. */
        List<JobEvent> untilClosed() throws InterruptedException {
            List<JobEvent> all = new ArrayList<>();
            while (true) {
                Object item = queue.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
                if (item == CLOSED) {
                    return all;
                }
                if (!(item instanceof JobEvent e)) {
                    throw new AssertionError((item == null ? "no event within " + WAIT : "socket ended: " + item)
                            + " after " + all);
                }
                all.add(e);
            }
        }

        /** Events until one with status {@code status}, inclusive. */
        List<JobEvent> until(JobStatus status) throws InterruptedException {
            List<JobEvent> seen = new ArrayList<>();
            while (true) {
                JobEvent e = next();
                seen.add(e);
                if (e instanceof StatusEvent s && s.status() == status) {
                    return seen;
                }
            }
        }
    }
}

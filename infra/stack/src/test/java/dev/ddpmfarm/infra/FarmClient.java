package dev.ddpmfarm.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.gateway.cli.JobEventStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** What a user of the farm does, over the JDK's HTTP and WebSocket clients, as the command-line client does. */
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

    /** Opens the job's event stream. */
    Events events(String id) throws Exception {
        return events(id, -1);
    }

    /** Opens the job's event stream replaying what came after seq {@code since}. */
    Events events(String id, long since) throws Exception {
        return new Events(JobEventStream.open(http, base, key, id, since, WAIT));
    }

    /** A job's WebSocket: the events in arrival order, then the close. */
    record Events(JobEventStream stream) {

        /** The next event; fails when none comes in time or the socket closed. */
        JobEvent next() throws InterruptedException {
            Object item = stream.next(WAIT);
            if (item instanceof JobEvent e) {
                return e;
            }
            throw new AssertionError(item == null ? "no event within " + WAIT : "socket ended: " + item);
        }

        /** Every event up to the job's terminal status and the close that follows it. */
        List<JobEvent> untilClosed() throws InterruptedException {
            List<JobEvent> all = new ArrayList<>();
            while (true) {
                Object item = stream.next(WAIT);
                if (item instanceof JobEventStream.Ended) {
                    return all;
                }
                if (!(item instanceof JobEvent e)) {
                    throw new AssertionError("no event within " + WAIT + " after " + all);
                }
                all.add(e);
            }
        }

        /** Adds to {@code events} what still arrives before the socket ends, however it ends. */
        void drainUntilEnded(List<JobEvent> events) throws InterruptedException {
            for (Object item = stream.next(WAIT); !(item instanceof JobEventStream.Ended); item = stream.next(WAIT)) {
                if (!(item instanceof JobEvent e)) {
                    throw new AssertionError("the socket neither ended nor sent an event within " + WAIT);
                }
                events.add(e);
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

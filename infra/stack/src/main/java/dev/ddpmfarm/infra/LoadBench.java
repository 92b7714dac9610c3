package dev.ddpmfarm.infra;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.cli.Args;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code farm bench load} (issue 6, item 6): the embedded stack with the shipped model under a steady stream of small
 * jobs, {@code --rate} submissions a second for {@code --seconds}, while {@code --subscribers} WebSocket clients each
 * follow a job from its first event to its last and move on to the newest job. Reports submit, event and
 * {@code /health} latency, events lost (a gap in a job's {@code seq}, or a stream that ended without the final
 * status), and the heap and RSS of the process (broker, S3 server, gateway, worker and these clients together).
 */
final class LoadBench {
    static final String USAGE = "bench load [--seconds 60] [--rate 100] [--subscribers 1000] [--steps 2] [--out FILE]";
    private static final String KEY = "load-key-0123456789";
    private static final Duration WAIT = Duration.ofMinutes(10);

    /** HTTP/1.1: a connection per request in flight, as from many clients (HTTP/2 would share one connection). */
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI base;
    private final String job;
    private final List<Long> submitMicros = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> eventMicros = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> healthMicros = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong healthFailures = new AtomicLong();
    private final AtomicReference<String> newest = new AtomicReference<>();
    private final ConcurrentLinkedQueue<String> refused = new ConcurrentLinkedQueue<>();
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong followed = new AtomicLong();
    private final AtomicLong open = new AtomicLong();
    private final AtomicLong peakOpen = new AtomicLong();
    private volatile boolean submitting = true;
    private CountDownLatch subscribersDone;

    private LoadBench(URI base, int steps) {
        this.base = base;
        this.job = "{\"type\":\"generate\",\"sampler\":\"ddim\",\"steps\":" + steps + ",\"count\":1,"
                + "\"checkpointEvery\":0,\"outputs\":[\"npy\"]}";
    }

    static void main(String[] args) throws Exception {
        Args o = new Args(args);
        int seconds = Integer.parseInt(o.value("--seconds", "60"));
        int rate = Integer.parseInt(o.value("--rate", "100"));
        int subscribers = Integer.parseInt(o.value("--subscribers", "1000"));
        int steps = Integer.parseInt(o.value("--steps", "2"));
        FarmConfig config = FarmConfig.fromEnvironment()
                .with(FarmConfig.DATA_DIR, Files.createTempDirectory("farm-load").toString())
                .with(FarmConfig.HTTP_PORT, "0").with(FarmConfig.HTTP_HOST, "127.0.0.1")
                .with(FarmConfig.API_KEYS, "load:" + KEY).with(FarmConfig.WORKER_METRICS_PORT, "0")
                .with(FarmConfig.MAX_ACTIVE_JOBS, "1000000").with(FarmConfig.RATE_LIMIT, "100000");
        List<String> lines = new ArrayList<>();
        try (EmbeddedStack stack = EmbeddedStack.start(config, 0, 0)) {
            LoadBench bench = new LoadBench(stack.url(), steps);
            bench.warmUp();
            long t0 = System.nanoTime();
            double cpu = bench.run(seconds, rate, subscribers);
            double drained = (System.nanoTime() - t0) / 1e9;
            Runtime rt = Runtime.getRuntime();
            long heap = rt.totalMemory() - rt.freeMemory();
            FarmBench.report(lines, "load: %d submissions/s for %d s, %d WebSocket subscribers (at most %d open at "
                    + "once), jobs of 1 sample DDIM-%d, shipped model", rate, seconds, subscribers, bench.peakOpen.get(),
                    steps);
            FarmBench.report(lines, "accepted %d (%.1f a second), refused %d %s; submit latency %s",
                    bench.submitMicros.size(), bench.submitMicros.size() / (double) seconds, bench.refused.size(),
                    bench.refused.stream().distinct().limit(3).toList(),
                    FarmBench.percentiles(bench.submitMicros, 1e3, "ms"));
            FarmBench.report(lines, "followed %d jobs to their end, %d events, lost events %d; event latency "
                    + "(event time → client) %s", bench.followed.get(), bench.events.get(), bench.lost.get(),
                    FarmBench.percentiles(bench.eventMicros, 1e3, "ms"));
            FarmBench.report(lines, "GET /health every 100 ms: %s, failed %d", FarmBench.percentiles(bench.healthMicros,
                    1e3, "ms"), bench.healthFailures.get());
            FarmBench.report(lines, "machine CPU busy %.0f%% during the run; the last subscriber finished %.0f s "
                    + "after the first submission", 100 * cpu, drained);
            FarmBench.report(lines, "at the end: heap in use %d MiB (max %d MiB), RSS %d MiB, %d threads",
                    heap >> 20, rt.maxMemory() >> 20, rssKib() >> 10, Thread.activeCount());
        }
        Path out = Path.of(o.value("--out", "target/bench-load.txt"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, lines);
        System.out.println("written to " + out);
    }

    /** One job through the farm, so the worker has loaded the model before the clock starts. */
    private void warmUp() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        subscribersDone = done;
        new Subscriber().follow(submit().get());
        if (!done.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("the warm-up job did not finish");
        }
        eventMicros.clear();
        submitMicros.clear();
        followed.set(0);
        events.set(0);
    }

    /** The load itself; returns the machine's mean CPU use while it ran. */
    private double run(int seconds, int rate, int subscribers) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        List<Double> cpu = Collections.synchronizedList(new ArrayList<>());
        subscribersDone = new CountDownLatch(subscribers);
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
        AtomicLong started = new AtomicLong();
        long periodMicros = 1_000_000L / rate;
        // each submission is sent without waiting for the one before, so a slow answer does not lower the rate
        timers.scheduleAtFixedRate(() -> submit().whenComplete((id, e) -> {
            if (e != null) {
                refused.add(e.getMessage());
            } else if (started.getAndIncrement() < subscribers) {
                new Subscriber().follow(id);
            }
        }), 0, periodMicros, TimeUnit.MICROSECONDS);
        timers.scheduleAtFixedRate(this::probeHealth, 0, 100, TimeUnit.MILLISECONDS);
        timers.scheduleAtFixedRate(() -> cpu.add(os.getCpuLoad()), 1, 1, TimeUnit.SECONDS);
        Thread.sleep(seconds * 1000L);
        submitting = false;
        timers.shutdown();
        timers.awaitTermination(1, TimeUnit.MINUTES);
        for (long i = started.get(); i < subscribers; i++) {
            subscribersDone.countDown(); // fewer jobs than subscribers: those never started
        }
        if (!subscribersDone.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException(subscribersDone.getCount() + " subscribers still wait after " + WAIT);
        }
        return cpu.stream().mapToDouble(Double::doubleValue).filter(v -> v >= 0).average().orElse(-1);
    }

    /** Submits one job; completes with its id once accepted, exceptionally with the answer when refused. */
    private CompletableFuture<String> submit() {
        long t0 = System.nanoTime();
        return http.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/jobs"))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(job)).build(), HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> {
                    if (r.statusCode() != 202) {
                        throw new IllegalStateException(r.statusCode() + " " + r.body());
                    }
                    submitMicros.add((System.nanoTime() - t0) / 1000);
                    String id = Wire.fromJson(r.body(), JobDocument.class).id();
                    newest.set(id);
                    return id;
                });
    }

    private void probeHealth() {
        long t0 = System.nanoTime();
        try {
            http.send(HttpRequest.newBuilder(base.resolve("/health")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding());
            healthMicros.add((System.nanoTime() - t0) / 1000);
        } catch (Exception e) {
            healthFailures.incrementAndGet();
        }
    }

    private static long rssKib() throws Exception {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
    }

    /**
     * A client following one job's WebSocket from seq 1 to the final status, checking that no seq is skipped; when
     * the job ends while submissions go on, it follows the newest job. A socket that closes early reconnects with
     * {@code ?since=} as a client should.
     */
    private final class Subscriber implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();
        private String jobId;
        private long lastSeq;
        private Instant since;
        private boolean finished;

        void follow(String id) {
            jobId = id;
            lastSeq = 0;
            finished = false;
            connect();
        }

        private void connect() {
            since = Instant.now();
            URI uri = URI.create(base.toString().replaceFirst("^http", "ws") + "/v1/jobs/" + jobId + "/events?since="
                    + lastSeq);
            http.newWebSocketBuilder().header("Authorization", "Bearer " + KEY).buildAsync(uri, this)
                    .whenComplete((ws, e) -> {
                        if (e != null) {
                            lost.incrementAndGet();
                            subscribersDone.countDown();
                        }
                    });
        }

        @Override
        public void onOpen(WebSocket ws) {
            peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JobEvent e = Wire.fromJson(partial.toString(), JobEvent.class);
                partial.setLength(0);
                events.incrementAndGet();
                if (e.seq() != lastSeq + 1) {
                    lost.addAndGet(Math.max(1, e.seq() - lastSeq - 1));
                }
                lastSeq = e.seq();
                if (e.at().isAfter(since)) {
                    eventMicros.add(Duration.between(e.at(), Instant.now()).toNanos() / 1000);
                }
                if (e instanceof StatusEvent s && s.status().terminal()) {
                    finished = true;
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            ended();
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            ended();
        }

        /** The socket is gone: reconnect to a job not yet finished, else follow the newest job or stop. */
        private void ended() {
            open.decrementAndGet();
            if (!finished) {
                connect();
                return;
            }
            followed.incrementAndGet();
            String next = newest.get();
            if (submitting && next != null && !next.equals(jobId)) {
                follow(next);
            } else {
                subscribersDone.countDown();
            }
        }
    }
}

package dev.ddpmfarm.infra;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.gateway.cli.JobEventStream;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.LoadedModel;
import dev.ddpmfarm.worker.sampling.BatchSampler;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.sampling.StepListener;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code farm bench farm [--out FILE]}: what the farm costs on top of sampling, on an embedded stack of its own (fresh
 * data directory, free ports) with the shipped model. Prints and writes: a 64-sample DDIM-50 job in-process and
 * through HTTP + Kafka + S3 (the overhead; each the best of two runs), 16 concurrent 4-sample jobs against that one job (continuous batching),
 * the event latency seen on the WebSocket, and submit latency p50/p99 at a steady rate.
 */
public final class FarmBench {
    private static final String MODEL = "fashion-mnist";
    private static final String KEY = "bench-key-0123456789";
    private static final Duration WAIT = Duration.ofMinutes(10);
    /** Wall times are the best of this many runs: the machine's other work only ever adds time. */
    private static final int REPEATS = 2;
    private static final String DDIM50 = "{\"type\":\"generate\",\"model\":\"" + MODEL + "\",\"sampler\":\"ddim\","
            + "\"steps\":50,\"seed\":%d,\"count\":%d}";

    private final HttpClient http = HttpClient.newHttpClient();
    private final URI base;
    private final List<Long> eventLatencyMicros = new ArrayList<>();

    private FarmBench(URI base) {
        this.base = base;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("farm")) {
            throw new IllegalArgumentException("usage: farm bench farm [--out FILE]");
        }
        Path out = Path.of(args.length == 3 && args[1].equals("--out") ? args[2] : "target/bench-farm.txt");
        FarmConfig env = FarmConfig.fromEnvironment();
        Path models = env.get(FarmConfig.MODELS_DIR);
        Path data = Files.createTempDirectory("farm-bench");
        FarmConfig config = env.with(FarmConfig.DATA_DIR, data.toString()).with(FarmConfig.HTTP_PORT, "0")
                .with(FarmConfig.HTTP_HOST, "127.0.0.1").with(FarmConfig.API_KEYS, "bench:" + KEY)
                .with(FarmConfig.WORKER_METRICS_PORT, "0").with(FarmConfig.MAX_ACTIVE_JOBS, "10000");
        List<String> lines = new ArrayList<>();
        double inProcess = inProcess(models.resolve(MODEL), config.get(FarmConfig.WORKER_MAX_BATCH));
        report(lines, "in-process   64 samples DDIM-50: %.2f s (best of %d)", inProcess, REPEATS);
        try (EmbeddedStack stack = EmbeddedStack.start(config, 0, 0)) {
            FarmBench bench = new FarmBench(stack.url());
            bench.runAll(List.of(String.format(DDIM50, 0, 8)), false); // warm-up: the worker loads the model
            double one = Double.MAX_VALUE;
            for (int rep = 0; rep < REPEATS; rep++) {
                one = Math.min(one, bench.runAll(List.of(String.format(DDIM50, 1, 64)), true));
            }
            report(lines, "farm         64 samples DDIM-50: %.2f s (best of %d; HTTP + Kafka + S3 overhead %+.1f%%)",
                    one, REPEATS,
                    100 * (one / inProcess - 1));
            List<String> sixteen = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                sixteen.add(String.format(DDIM50, 100 + i, 4));
            }
            double many = bench.runAll(sixteen, true);
            report(lines, "farm         16 concurrent jobs of 4 samples: %.2f s (%.2f× the one 64-sample job)", many,
                    many / one);
            report(lines, "WebSocket event latency (event time → client): %s", percentiles(
                    bench.eventLatencyMicros, 1e3, "ms"));
            report(lines, "submit latency at 20 requests/s for 10 s: %s", bench.submitLatency(20, 200));
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, lines);
        System.out.println("written to " + out);
    }

    /** Seconds to sample 64 images with DDIM-50 in this process, after a warm-up. */
    private static double inProcess(Path modelDir, int maxBatch) {
        LoadedModel model = LoadedModel.load(modelDir, System.err);
        BatchSampler sampler = new BatchSampler(model.denoiser());
        Scheduler ddim = Scheduler.create(model.process(), Sampler.DDIM, 50, VarianceType.BETA, 0);
        sampler.run(states(sampler, ddim, 8), maxBatch, StepListener.NONE);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < REPEATS; rep++) {
            long t0 = System.nanoTime();
            sampler.run(states(sampler, ddim, 64), maxBatch, StepListener.NONE);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static List<SampleState> states(BatchSampler sampler, Scheduler scheduler, int n) {
        List<SampleState> states = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            states.add(SampleState.start("bench", i, 1, scheduler, Denoiser.NO_CLASS, Guidance.NONE, sampler.dims()));
        }
        return states;
    }

    /** Submits the jobs together and follows their WebSockets; seconds until the last one succeeded. */
    private double runAll(List<String> jobs, boolean measureEvents) throws Exception {
        long t0 = System.nanoTime();
        List<JobEventStream> streams = new ArrayList<>();
        for (String job : jobs) {
            streams.add(JobEventStream.open(http, base, KEY, submit(job).id(), -1, WAIT));
        }
        for (JobEventStream stream : streams) {
            while (true) {
                Object item = stream.next(WAIT);
                if (!(item instanceof JobEvent e)) {
                    throw new IllegalStateException("the job's stream ended without a final status: " + item);
                }
                if (measureEvents) {
                    eventLatencyMicros.add(Duration.between(e.at(), stream.arrivedAt()).toNanos() / 1000);
                }
                if (e instanceof StatusEvent s && s.status().terminal()) {
                    if (s.status() != JobStatus.SUCCEEDED) {
                        throw new IllegalStateException("a benchmark job ended " + s.status().wireName());
                    }
                    break;
                }
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private JobDocument submit(String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v1/jobs"))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) {
            throw new IllegalStateException("submit answered " + r.statusCode() + ": " + r.body());
        }
        return Wire.fromJson(r.body(), JobDocument.class);
    }

    /** Submits {@code n} one-sample, one-step jobs at {@code perSecond}; the latency percentiles. */
    private String submitLatency(int perSecond, int n) throws Exception {
        String job = "{\"type\":\"generate\",\"model\":\"" + MODEL + "\",\"sampler\":\"ddim\",\"steps\":1,\"count\":1}";
        List<Long> micros = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long due = start + i * 1_000_000_000L / perSecond;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            long t0 = System.nanoTime();
            submit(job);
            micros.add((System.nanoTime() - t0) / 1000);
        }
        return percentiles(micros, 1e3, "ms");
    }

    static String percentiles(List<Long> values, double scale, String unit) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 0) {
            return "no samples";
        }
        return String.format(Locale.ROOT, "p50 %.1f %s, p99 %.1f %s, max %.1f %s (%d samples)",
                sorted[sorted.length / 2] / scale, unit, sorted[(int) Math.floor(0.99 * (sorted.length - 1))] / scale,
                unit, Arrays.stream(sorted).max().orElse(0) / scale, unit, sorted.length);
    }

    static void report(List<String> lines, String format, Object... args) {
        String line = String.format(Locale.ROOT, format, args);
        System.out.println(line);
        lines.add(line);
    }
}

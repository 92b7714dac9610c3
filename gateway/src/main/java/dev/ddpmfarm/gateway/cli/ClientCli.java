package dev.ddpmfarm.gateway.cli;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.ErrorEvent;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The farm's client command line, behind {@code scripts/farm submit | watch | get} (SPEC §2):
 * <pre>
 *   submit '&lt;json&gt;' [--wait]   submit a job; prints its document (with --wait: follows it and prints the final one)
 *   watch ID                   follows a job's WebSocket with a progress bar until it finishes
 *   get ID --out DIR           downloads every file of the job's manifest into DIR and checks each size
 *   augment --per-class N --out DIR [--format idx|npy|imagefolder] [--steps S] [--guidance G] [--seed K]
 *           [--guidance-start F] [--guidance-stop F] [--min-confidence C]
 *                              generates a labelled dataset of N samples of every class (DDIM, 50 steps and guidance
 *                              2 unless told), follows it with one progress bar, downloads the dataset files and
 *                              checks that every index and class is there exactly as asked
 * </pre>
 * It reads {@code FARM_URL} and {@code FARM_API_KEY} ({@link FarmConfig#CLIENT_URL}, {@link FarmConfig#CLIENT_API_KEY}).
 * Exit status: 0 when the job (or download) succeeded, 1 when it failed or was cancelled or the farm refused, 2 for a
 * usage error.
 */
public final class ClientCli {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int RECONNECTS = 20;
    private static final Set<String> AUGMENT_OPTIONS = Set.of("--per-class", "--out", "--format", "--steps",
            "--guidance", "--guidance-start", "--guidance-stop", "--seed", "--model", "--min-confidence");

    /** The arguments of {@code augment}, for its usage line here and in the farm's help. */
    public static final String AUGMENT_ARGS = "--per-class N --out DIR [--format idx|npy|imagefolder] [--steps S]"
            + " [--guidance G] [--guidance-start F] [--guidance-stop F] [--seed K] [--model NAME] [--min-confidence C]";

    private final URI base;
    private final String key;
    private final PrintStream out;
    private final PrintStream err;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private long firstProgressNanos;
    private double firstFraction;

    private ClientCli(URI base, String key, PrintStream out, PrintStream err) {
        this.base = base;
        this.key = key;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    /** Runs one command with the settings in {@code env}; returns the exit status. */
    public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("usage: farm submit '<json>' [--wait] | watch ID | get ID --out DIR | augment --per-class N "
                    + "--out DIR");
            return 2;
        }
        FarmConfig config;
        try {
            config = FarmConfig.from(env);
        } catch (IllegalArgumentException e) {
            err.println("farm: " + e.getMessage());
            return 2;
        }
        String key = config.get(FarmConfig.CLIENT_API_KEY);
        if (key.isBlank()) {
            err.println("set FARM_API_KEY to your API key (scripts/farm up prints one)");
            return 2;
        }
        URI base = URI.create(config.get(FarmConfig.CLIENT_URL).toString().replaceAll("/+$", ""));
        ClientCli cli = new ClientCli(base, key, out, err);
        try {
            return switch (args[0]) {
                case "submit" -> args.length >= 2 && (args.length == 2 || args.length == 3 && args[2].equals("--wait"))
                        ? cli.submit(args[1], args.length == 3) : usage(err, "submit '<json>' [--wait]");
                case "watch" -> args.length == 2 ? cli.watch(args[1]) : usage(err, "watch ID");
                case "get" -> args.length == 4 && args[2].equals("--out") ? cli.get(args[1], Path.of(args[3]))
                        : usage(err, "get ID --out DIR");
                case "augment" -> cli.augment(Arrays.copyOfRange(args, 1, args.length));
                default -> usage(err, "submit | watch | get | augment");
            };
        } catch (IOException e) {
            err.println("farm: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static int usage(PrintStream err, String usage) {
        err.println("usage: farm " + usage);
        return 2;
    }

    private int submit(String json, boolean wait) throws IOException, InterruptedException {
        HttpResponse<String> r = send(request("/v1/jobs").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
        if (r.statusCode() != 202) {
            return refused(r);
        }
        JobDocument doc = Wire.fromJson(r.body(), JobDocument.class);
        err.printf("job %s %s (%d samples, %d task%s, seed %d)%n", doc.id(), doc.status().wireName(),
                doc.progress().count(), doc.shards(), doc.shards() == 1 ? "" : "s", doc.seed());
        if (!wait) {
            out.println(r.body());
            return 0;
        }
        int status = watch(doc.id());
        HttpResponse<String> last = send(request("/v1/jobs/" + doc.id()).GET().build());
        out.println(last.body());
        return status;
    }

    /**
     * Follows the job's events with a progress bar on stderr until the terminal status; when the connection drops,
     * reconnects with {@code ?since=} the last seq received, so no event is missed; it gives up after
     * {@value #RECONNECTS} reconnects in a row that brought no event.
     */
    private int watch(String id) throws IOException, InterruptedException {
        if (!JobIds.valid(id)) {
            err.println("not a job id: " + id);
            return 2;
        }
        long lastSeq = -1;
        for (int failures = 0; failures <= RECONNECTS; ) {
            JobEventStream stream;
            try {
                stream = JobEventStream.open(http, base, key, id, lastSeq, TIMEOUT);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                err.println("\ncannot connect to " + base + ": " + e.getCause());
                failures++;
                Thread.sleep(1000);
                continue;
            }
            long before = lastSeq;
            while (true) {
                Object next = stream.next(Duration.ofDays(1));
                if (next instanceof JobEvent e) {
                    lastSeq = e.seq();
                    JobStatus terminal = show(e);
                    if (terminal != null) {
                        stream.close();
                        err.println();
                        return terminal == JobStatus.SUCCEEDED ? 0 : 1;
                    }
                } else {
                    err.println("\nconnection closed (" + next + "), reconnecting");
                    break;
                }
            }
            failures = lastSeq > before ? 0 : failures + 1;
        }
        err.println("giving up after " + RECONNECTS + " reconnects in a row without an event");
        return 1;
    }

    /** Shows one event; returns the job's terminal status when it is one. */
    private JobStatus show(JobEvent event) {
        if (event instanceof ProgressEvent p) {
            double done = p.count() == 0 ? 0 : (double) p.samplesDone() / p.count();
            double steps = p.totalSteps() == 0 ? 0 : (double) p.step() / p.totalSteps();
            double fraction = Math.max(done, Math.min(1, steps));
            int width = 30;
            int filled = (int) Math.round(width * fraction);
            long now = System.nanoTime();
            if (firstProgressNanos == 0) {
                firstProgressNanos = now;
                firstFraction = fraction;
            }
            double rate = (fraction - firstFraction) / Math.max(1, now - firstProgressNanos);
            String eta = rate > 0 ? String.format("  ETA %ds", Math.round((1 - fraction) / rate / 1e9)) : "";
            err.printf("\r[%s%s] step %d/%d  samples %d/%d%s   ", "#".repeat(filled), "-".repeat(width - filled),
                    p.step(), p.totalSteps(), p.samplesDone(), p.count(), eta);
        } else if (event instanceof StatusEvent s) {
            err.printf("%n%s%s", s.status().wireName(), s.error() == null ? "" : ": " + s.error());
            return s.status().terminal() ? s.status() : null;
        } else if (event instanceof ErrorEvent e) {
            err.printf("%nerror: %s", e.message());
        } else if (event instanceof ResultEvent r) {
            err.printf("%nresults: %s%s", base, r.manifest());
        } else if (event instanceof FrameEvent f) {
            err.printf("\rframe at step %d (t = %d)   ", f.step(), f.t());
        }
        return null;
    }

    private int get(String id, Path dir) throws IOException, InterruptedException {
        return download(id, dir, path -> true);
    }

    /**
     * Downloads the manifest's files whose paths {@code wanted} accepts into {@code dir}, checking their sizes. Each
     * comes from the job's files with the key rather than from its signed URL, which expires
     * ({@code FARM_URL_TTL_SECONDS}) before the last of a large dataset's files would be reached.
     */
    private int download(String id, Path dir, Predicate<String> wanted) throws IOException, InterruptedException {
        HttpResponse<String> r = send(request("/v1/jobs/" + id + "/results").GET().build());
        if (r.statusCode() != 200) {
            return refused(r);
        }
        List<Manifest.File> files = Wire.fromJson(r.body(), Manifest.class).files().stream()
                .filter(f -> wanted.test(f.path())).toList();
        long total = 0;
        for (Manifest.File file : files) {
            if (!ObjectKeys.safeRelativePath(file.path())) {
                err.println("refusing unsafe path " + file.path());
                return 1;
            }
            Path target = dir.resolve(file.path());
            Files.createDirectories(target.getParent());
            HttpResponse<Path> download = http.send(request("/v1/jobs/" + id + "/files/" + file.path()).GET().build(),
                    HttpResponse.BodyHandlers.ofFile(target));
            if (download.statusCode() != 200) {
                err.printf("%s: HTTP %d%n", file.path(), download.statusCode());
                return 1;
            }
            long size = Files.size(target);
            if (size != file.size()) {
                err.printf("%s: %d bytes, the manifest says %d%n", file.path(), size, file.size());
                return 1;
            }
            total += size;
        }
        err.printf("%d files, %,d bytes in %s (sizes verified)%n", files.size(), total, dir);
        out.println(dir.toAbsolutePath());
        return 0;
    }

    /** {@code farm augment}: a perClass dataset job, followed, downloaded and checked. */
    private int augment(String[] args) throws IOException, InterruptedException {
        String usage = "augment " + AUGMENT_ARGS;
        Map<String, String> options = new HashMap<>(Map.of("--format", "idx", "--steps", "50", "--guidance", "2",
                "--model", "fashion-mnist"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        if (args.length % 2 != 0 || !options.containsKey("--per-class") || !options.containsKey("--out")
                || !AUGMENT_OPTIONS.containsAll(options.keySet())
                || !DatasetCheck.FILES.containsKey(options.get("--format"))) {
            return usage(err, usage);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "generate");
        body.put("model", options.get("--model"));
        body.put("perClass", Integer.parseInt(options.get("--per-class")));
        body.put("sampler", "ddim");
        body.put("steps", Integer.parseInt(options.get("--steps")));
        body.put("guidance", Double.parseDouble(options.get("--guidance")));
        if (options.containsKey("--guidance-start")) {
            body.put("guidanceStart", Double.parseDouble(options.get("--guidance-start")));
        }
        if (options.containsKey("--guidance-stop")) {
            body.put("guidanceStop", Double.parseDouble(options.get("--guidance-stop")));
        }
        if (options.containsKey("--seed")) {
            body.put("seed", Long.parseLong(options.get("--seed")));
        }
        if (options.containsKey("--min-confidence")) {
            body.put("minConfidence", Double.parseDouble(options.get("--min-confidence")));
        }
        body.put("checkpointEvery", 0);
        String format = options.get("--format");
        body.put("outputs", format.equals("idx") ? List.of("idx", "labels") : List.of(format, "labels"));
        HttpResponse<String> r = send(request("/v1/jobs").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Wire.toJson(body))).build());
        if (r.statusCode() != 202) {
            return refused(r);
        }
        JobDocument doc = Wire.fromJson(r.body(), JobDocument.class);
        err.printf("job %s: %d samples in %d tasks, seed %d%n", doc.id(), doc.progress().count(), doc.shards(),
                doc.seed());
        if (watch(doc.id()) != 0) {
            return 1;
        }
        Path dir = Path.of(options.get("--out"));
        int status = download(doc.id(), dir, DatasetCheck.FILES.get(format)::contains);
        if (status != 0) {
            return status;
        }
        String problem = DatasetCheck.check(dir, format, Integer.parseInt(options.get("--per-class")),
                (int) doc.progress().count());
        if (problem != null) {
            err.println("the dataset is not what was asked: " + problem);
            return 1;
        }
        err.printf("dataset verified: %d images, %s per class, every index once; %s%n", doc.progress().count(),
                options.get("--per-class"), DatasetCheck.redraws(dir, doc.seed()));
        return 0;
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).header("Authorization", "Bearer " + key);
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** Prints a refusal (problem+json: detail and every field error) and returns 1. */
    private int refused(HttpResponse<String> r) {
        err.printf("HTTP %d%n", r.statusCode());
        try {
            Map<?, ?> problem = Wire.fromJson(r.body(), Map.class);
            err.println(problem.get("detail"));
            if (problem.get("errors") instanceof List<?> errors) {
                errors.forEach(e -> err.printf("  %s: %s%n", ((Map<?, ?>) e).get("field"),
                        ((Map<?, ?>) e).get("message")));
            }
        } catch (IllegalArgumentException e) {
            err.println(r.body());
        }
        return 1;
    }
}

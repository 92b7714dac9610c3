package dev.ddpmfarm.infra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ProgressEvent;
import dev.ddpmfarm.common.wire.RateDistortion;
import dev.ddpmfarm.common.wire.ResultEvent;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.testing.TinyModel;
import dev.ddpmfarm.gateway.cli.ClientCli;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The farm end to end as {@code farm up} runs it (real KRaft broker, real S3 server, gateway, worker, a tiny model),
 * driven only through HTTP and WebSocket as a user would.
 */
class FarmEndToEndTest {
    private static final String KEY = "acme-key-0123456789";
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

    private static Path dir;
    private static EmbeddedStack stack;
    private static FarmClient client;

    @BeforeAll
    static void up() throws Exception {
        dir = Files.createTempDirectory("farm-e2e");
        stack = EmbeddedStack.start(TinyFarm.config(dir, "FARM_API_KEYS", "acme:" + KEY, "FARM_SHARD_SIZE", "4",
                "FARM_WORKER_MAX_BATCH", "8", "FARM_S3_PUBLIC_URLS", "true"), 0, 0);
        client = new FarmClient(stack.url(), KEY);
    }

    @AfterAll
    static void down() throws Exception {
        stack.close();
    }

    @Test
    @DisplayName("a guided generate job streams progress and frames over the WebSocket; its results download from S3")
    void generate() throws Exception {
        JobDocument job = client.submit("{\"type\":\"generate\",\"model\":\"tiny\",\"count\":3,\"sampler\":\"ddpm\","
                + "\"steps\":20,\"checkpointEvery\":5,\"class\":3,\"guidance\":2,\"seed\":9}");
        List<JobEvent> events = client.events(job.id()).untilClosed();

        assertEquals(JobStatus.SUCCEEDED, ((StatusEvent) events.get(events.size() - 1)).status());
        List<Long> seqs = events.stream().map(JobEvent::seq).toList();
        assertEquals(consecutive(seqs.get(0), seqs.size()), seqs, "seq increases by one");
        assertTrue(events.stream().anyMatch(e -> e instanceof StatusEvent s && s.status() == JobStatus.RUNNING));
        assertTrue(events.stream().anyMatch(e -> e instanceof ProgressEvent));
        List<FrameEvent> frames = events.stream().filter(e -> e instanceof FrameEvent).map(e -> (FrameEvent) e)
                .toList();
        assertEquals(List.of(5, 10, 15, 20), frames.stream().map(FrameEvent::step).toList());
        byte[] first = png(frames.get(0).xt());
        assertTrue(!Arrays.equals(first, png(frames.get(3).xt())), "x_t changes between frames");
        png(frames.get(3).x0());
        assertTrue(events.stream().anyMatch(e -> e instanceof ResultEvent));

        Manifest m = client.manifest(job.id());
        assertEquals(List.of("grid.png", "labels.npy", "samples.npy", "samples/000000.png", "samples/000001.png",
                "samples/000002.png", "status.json"),
                m.files().stream().map(Manifest.File::path).sorted().toList());
        for (Manifest.File f : m.files()) {
            assertTrue(f.url().startsWith(stack.config().get(FarmConfig.S3_ENDPOINT).toString()),
                    "with FARM_S3_PUBLIC_URLS the manifest's URLs are presigned URLs of the S3 server: " + f.url());
            HttpResponse<byte[]> r = client.download(f.url());
            assertEquals(200, r.statusCode(), f.path());
            assertEquals(f.size(), r.body().length, f.path());
        }
        JobDocument done = client.job(job.id());
        assertEquals(JobStatus.SUCCEEDED, done.status());
        assertEquals(3, done.progress().samplesDone());
    }

    @ParameterizedTest(name = "farm augment --format {0}")
    @ValueSource(strings = {"idx", "npy", "imagefolder"})
    @DisplayName("farm augment: a perClass job over many tasks downloads as one dataset, every index and class once")
    void augment(String format) throws Exception {
        Path out = dir.resolve("augment-" + format);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("augment", "--per-class", "3", "--out", out.toString(), "--format",
                format, "--steps", "3", "--model", TinyModel.NAME, "--seed", "11"));
        if (format.equals("imagefolder")) {
            args.addAll(List.of("--guidance-start", "0.5"));
        }
        int status = ClientCli.run(args.toArray(String[]::new),
                Map.of("FARM_URL", stack.url().toString(), "FARM_API_KEY", KEY),
                new PrintStream(OutputStream.nullOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, log);
        assertTrue(log.contains("30 samples in 8 tasks") && log.contains("dataset verified: 30 images"), log);
    }

    @Test
    @DisplayName("two jobs submitted together share forward passes and each makes exactly the samples it makes alone")
    void jobsShareForwardPasses() throws Exception {
        String a = "{\"type\":\"generate\",\"model\":\"tiny\",\"count\":2,\"steps\":300,\"seed\":21}";
        String b = "{\"type\":\"generate\",\"model\":\"tiny\",\"count\":2,\"steps\":250,\"class\":4,\"guidance\":3,"
                + "\"seed\":22}";
        byte[] aAlone = samples(run(a));
        byte[] bAlone = samples(run(b));
        long sharedBefore = sharedPasses();

        JobDocument a2 = client.submit(a);
        JobDocument b2 = client.submit(b);
        FarmClient.Events aEvents = client.events(a2.id());
        FarmClient.Events bEvents = client.events(b2.id());
        aEvents.untilClosed();
        bEvents.untilClosed();
        assertTrue(sharedPasses() > sharedBefore, "the worker's metrics show passes shared by both jobs");
        assertArrayEquals(aAlone, samples(a2));
        assertArrayEquals(bAlone, samples(b2));
    }

    @Test
    @DisplayName("a rate-distortion job on uploaded PNGs runs through the farm; a file that is not a PNG gets a 422")
    void rateDistortion() throws Exception {
        byte[] pixels = new byte[TinyModel.SIZE * TinyModel.SIZE];
        Arrays.fill(pixels, (byte) 200);
        String png = Base64.getEncoder().encodeToString(Png.encode(
                new Uint8Image(TinyModel.SIZE, TinyModel.SIZE, 1, pixels)));
        JobDocument job = run("{\"type\":\"rate-distortion\",\"model\":\"tiny\",\"input\":{\"images\":[\"" + png
                + "\",\"" + png + "\"]},\"timesteps\":[1000,1]}");
        assertEquals(JobStatus.SUCCEEDED, client.job(job.id()).status());
        Manifest m = client.manifest(job.id());
        assertEquals(List.of("rd.csv", "rd.json", "rd.png", "status.json"),
                m.files().stream().map(Manifest.File::path).sorted().toList());
        RateDistortion rd = Wire.fromBytes(client.download(m.files().stream().filter(f -> f.path().equals("rd.json"))
                .findFirst().orElseThrow().url()).body(), RateDistortion.class);
        assertEquals(2, rd.images());
        assertEquals(List.of(1000, 1), rd.rows().stream().map(RateDistortion.Row::t).toList());

        String gif = Base64.getEncoder().encodeToString("GIF89a".getBytes(StandardCharsets.US_ASCII));
        HttpResponse<String> refused = client.send("POST", "/v1/jobs", "{\"type\":\"rate-distortion\",\"model\":"
                + "\"tiny\",\"input\":{\"images\":[\"" + gif + "\"]}}");
        assertEquals(422, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("input.images[0]") && refused.body().contains("not a PNG"), refused.body());
    }

    private static JobDocument run(String json) throws Exception {
        JobDocument job = client.submit(json);
        client.events(job.id()).untilClosed();
        return job;
    }

    private static byte[] samples(JobDocument job) throws Exception {
        String url = client.manifest(job.id()).files().stream().filter(f -> f.path().equals("samples.npy"))
                .findFirst().orElseThrow().url();
        return client.download(url).body();
    }

    private static long sharedPasses() throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(stack.workerMetricsUrl()).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("farm_worker_shared_forward_passes_total "))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    }

    @Test
    @DisplayName("a job of three shards runs on the worker shard by shard and lists every sample once")
    void sharded() throws Exception {
        JobDocument job = client.submit("{\"type\":\"generate\",\"model\":\"tiny\",\"count\":10,\"sampler\":\"ddim\","
                + "\"steps\":5,\"seed\":1}");
        List<JobEvent> events = client.events(job.id()).untilClosed();
        assertEquals(JobStatus.SUCCEEDED, ((StatusEvent) events.get(events.size() - 1)).status());
        List<String> samples = client.manifest(job.id()).files().stream().map(Manifest.File::path)
                .filter(p -> p.startsWith("samples/")).sorted().toList();
        assertEquals(IntStream.range(0, 10).mapToObj(i -> String.format("samples/%06d.png", i)).toList(), samples);
    }

    @Test
    @DisplayName("a running job is cancelled: its status says so and the worker goes on with the next job")
    void cancel() throws Exception {
        JobDocument slow = client.submit("{\"type\":\"generate\",\"model\":\"tiny\",\"count\":4,\"steps\":1000,"
                + "\"seed\":2}");
        FarmClient.Events events = client.events(slow.id());
        events.until(JobStatus.RUNNING);
        assertEquals(202, client.cancel(slow.id()).statusCode());
        List<JobEvent> rest = events.untilClosed();
        assertEquals(JobStatus.CANCELLED, ((StatusEvent) rest.get(rest.size() - 1)).status());

        JobDocument next = client.submit("{\"type\":\"generate\",\"model\":\"tiny\",\"count\":1,\"sampler\":\"ddim\","
                + "\"steps\":3}");
        List<JobEvent> after = client.events(next.id()).untilClosed();
        assertEquals(JobStatus.SUCCEEDED, ((StatusEvent) after.get(after.size() - 1)).status());
    }

    private static byte[] png(String url) throws Exception {
        HttpResponse<byte[]> r = client.download(url);
        assertEquals(200, r.statusCode(), url);
        assertArrayEquals(PNG_MAGIC, Arrays.copyOf(r.body(), 4), url + " is a PNG");
        return r.body();
    }

    private static List<Long> consecutive(long from, int n) {
        return LongStream.range(from, from + n).boxed().toList();
    }
}

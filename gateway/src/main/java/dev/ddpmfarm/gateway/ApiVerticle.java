package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.data.LabeledImages;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.common.model.ModelRegistry;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.store.ObjectStore.ObjectInfo;
import dev.ddpmfarm.common.wire.Control;
import dev.ddpmfarm.common.wire.Dataset;
import dev.ddpmfarm.common.wire.FieldError;
import dev.ddpmfarm.common.wire.FrameEvent;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.ImageJobRequest;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.JobIds;
import dev.ddpmfarm.common.wire.JobRequest;
import dev.ddpmfarm.common.wire.JobRequestParser;
import dev.ddpmfarm.common.wire.JobRequestParser.Accepted;
import dev.ddpmfarm.common.wire.JobRequestParser.Rejection;
import dev.ddpmfarm.common.wire.JobStatus;
import dev.ddpmfarm.common.wire.JobType;
import dev.ddpmfarm.common.wire.Manifest;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.common.wire.StatusEvent;
import dev.ddpmfarm.common.wire.Topics;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.common.wire.WireEnum;
import dev.ddpmfarm.common.wire.WireMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API and WebSocket event streams of SPEC §3–4. Routes are one line each; every handler is private.
 * Nothing is produced to Kafka before a request has passed authentication and validation.
 */
final class ApiVerticle extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(ApiVerticle.class);
    private static final String TENANT = "farm.tenant";
    private static final String SIGNED = "farm.signed";
    private static final String BEARER = "Bearer ";
    private static final String WS_BEARER = "bearer.";
    private static final int DEFAULT_PAGE = 20;
    private static final int MAX_PAGE = 100;
    private static final Duration APPLY_WAIT = Duration.ofSeconds(5);
    /** How long at most an Idempotency-Key stays in flight after its job was stored, waiting for the store. */
    private static final Duration SLOT_HOLD = Duration.ofMinutes(2);
    private static final int FILE_CHUNK = 64 * 1024;
    /** How long a download waits for its client to take what was written before it is cut off. */
    private static final Duration DRAIN_WAIT = Duration.ofSeconds(60);
    private static final int UPLOAD_CHECK_THREADS = 2;

    /**
     * What the API works with, built once by {@link Gateway} and shared by the verticle's instances (one per event
     * loop): besides the clients, the rate limiter, the {@code tenant + "\n" + Idempotency-Key} of every submission
     * in flight, and the built-in datasets read so far.
     */
    record Services(JobStore store, TransactionalPublisher publisher, JobPlanner planner, ModelRegistry models,
                    ApiKeys keys, UrlSigner signer, ObjectStore objects, GatewayMetrics metrics, RateLimiter limiter,
                    Set<String> submitting, Map<Dataset, LabeledImages> datasets) {
    }

    private final Services s;
    private final SecureRandom random = new SecureRandom();
    private JobRequestParser parser;
    private FarmConfig config;
    private boolean publicUrls;
    private HttpServer server;
    /** Decodes uploaded images at submit: threads of their own, so a burst of large uploads starves no download. */
    private WorkerExecutor uploadChecks;

    ApiVerticle(Services services) {
        this.s = services;
    }

    @Override
    public Future<?> start() {
        // The requests and WebSockets of this gateway run on these event loops: they go before throughput threads
        // (nice -5 under -XX:ThreadPriorityPolicy=1 as root; elsewhere the JVM leaves the priority alone).
        Thread.currentThread().setPriority(Thread.MAX_PRIORITY);
        config = FarmConfig.from(config().getMap());
        publicUrls = config.get(FarmConfig.S3_PUBLIC_URLS);
        parser = new JobRequestParser(s.models()::find);
        uploadChecks = vertx.createSharedWorkerExecutor("farm-upload-checks", UPLOAD_CHECK_THREADS);
        Router router = Router.router(vertx);
        router.get("/health").handler(this::health);
        router.route("/v1/*").handler(this::authenticate);
        router.route("/metrics").handler(this::authenticate);
        router.post("/v1/jobs").handler(BodyHandler.create(false).setBodyLimit(config.get(FarmConfig.MAX_BODY_BYTES)));
        router.post("/v1/jobs").handler(this::submit);
        router.get("/v1/jobs").handler(this::list);
        router.get("/v1/jobs/:id").handler(this::get);
        router.delete("/v1/jobs/:id").handler(this::cancel);
        router.get("/v1/jobs/:id/results").handler(this::results);
        router.get("/v1/jobs/:id/files/*").handler(this::file);
        router.get("/v1/jobs/:id/events").handler(this::events);
        router.get("/v1/models").handler(this::models);
        router.get("/v1/datasets/:name/images/:index").handler(this::datasetImage);
        router.get("/metrics").handler(this::metrics);
        router.get("/*").handler(ApiVerticle::pageHeaders).handler(StaticHandler.create("webroot"));
        router.errorHandler(404, ctx -> Problems.notFound(ctx, "no such resource: " + ctx.request().path()));
        router.errorHandler(405, ctx -> Problems.send(ctx, 405, "method-not-allowed", "Method Not Allowed",
                ctx.request().method() + " is not allowed on " + ctx.request().path()));
        router.errorHandler(413, ctx -> Problems.send(ctx, 413, "too-large", "Payload Too Large",
                "the body exceeds " + config.get(FarmConfig.MAX_BODY_BYTES) + " bytes"));
        router.errorHandler(500, this::internalError);
        // Every instance listens on the same port and Vert.x spreads the connections over them; port 0 would give
        // each instance a port of its own, -1 is Vert.x's one random port shared by the servers asking for -1.
        int port = config.get(FarmConfig.HTTP_PORT);
        return vertx.createHttpServer().requestHandler(router)
                .listen(port == 0 ? -1 : port, config.get(FarmConfig.HTTP_HOST))
                .onSuccess(srv -> {
                    server = srv;
                    LOG.info("gateway listening on {}:{}", config.get(FarmConfig.HTTP_HOST), srv.actualPort());
                });
    }

    /** The port the server listens on (useful with port 0). */
    int port() {
        return server.actualPort();
    }

    // ---- authentication -------------------------------------------------------------------------------------------

    /**
     * Finds the tenant of the request: the {@code Authorization: Bearer} key, or for a WebSocket handshake the
     * {@code bearer.<key>} subprotocol. A file request without a key but with {@code sig} goes on to the file
     * handler, which checks the signature against the job's tenant.
     */
    private void authenticate(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String header = req.getHeader("Authorization");
        Optional<String> tenant = Optional.empty();
        if (header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            tenant = s.keys().tenantOf(header.substring(BEARER.length()).trim());
        } else if (header == null && req.canUpgradeToWebSocket()) {
            tenant = offeredProtocols(req).stream().filter(p -> p.startsWith(WS_BEARER))
                    .map(p -> s.keys().tenantOf(p.substring(WS_BEARER.length())))
                    .flatMap(Optional::stream).findFirst();
        } else if (header == null && req.getParam("sig") != null && req.path().contains("/files/")) {
            ctx.put(SIGNED, true);
            ctx.next();
            return;
        }
        if (tenant.isEmpty()) {
            Problems.unauthorized(ctx);
            return;
        }
        long wait = s.limiter().retryAfterSeconds(tenant.get(), System.nanoTime());
        if (wait > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(wait));
            Problems.send(ctx, 429, "rate-limited", "Too Many Requests", "this API key is over its "
                    + config.get(FarmConfig.RATE_LIMIT) + " requests a second (FARM_RATE_LIMIT)");
            return;
        }
        ctx.put(TENANT, tenant.get());
        ctx.next();
    }

    private static List<String> offeredProtocols(HttpServerRequest req) {
        String header = req.getHeader("Sec-WebSocket-Protocol");
        return header == null ? List.of() : Arrays.stream(header.split(",")).map(String::trim).toList();
    }

    private static String tenant(RoutingContext ctx) {
        return ctx.get(TENANT);
    }

    /** The tenant's job named by the {@code :id} path parameter; answers 404 itself when there is none. */
    private Optional<JobState> job(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        Optional<JobState> job = JobIds.valid(id) ? s.store().find(tenant(ctx), id) : Optional.empty();
        if (job.isEmpty()) {
            Problems.notFound(ctx, "no job " + id);
        }
        return job;
    }

    // ---- jobs -----------------------------------------------------------------------------------------------------

    private void submit(RoutingContext ctx) {
        String tenant = tenant(ctx);
        String key = ctx.request().getHeader("Idempotency-Key");
        if (key != null && !key.matches("[\\x21-\\x7e]{1,255}")) {
            Problems.badRequest(ctx, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
            return;
        }
        Buffer body = ctx.body().buffer();
        JobRequestParser.Result parsed = classifierChecked(parser.parse(body == null ? new byte[0] : body.getBytes()));
        if (parsed instanceof Accepted a && a.request() instanceof ImageJobRequest images
                && images.input().images() != null) {
            uploadChecks.executeBlocking(() -> images.input().decodeErrors(), false).onSuccess(errors -> {
                try {
                    submit(ctx, tenant, key, errors.isEmpty() ? parsed : JobRequestParser.invalid(errors));
                } catch (RuntimeException e) {
                    ctx.fail(e);
                }
            }).onFailure(ctx::fail);
        } else {
            submit(ctx, tenant, key, parsed);
        }
    }

    private void submit(RoutingContext ctx, String tenant, String key, JobRequestParser.Result result) {
        if (result instanceof Rejection r) {
            s.metrics().submissionsRejected.incrementAndGet();
            rejectSubmission(ctx, r);
            return;
        }
        Accepted accepted = (Accepted) result;
        if (key == null) {
            enqueue(ctx, tenant, null, accepted);
            return;
        }
        // One request per key at a time, across every event loop; the slot is taken before the store is asked for
        // an earlier job of this key, and freed once the store knows that request's job (or that there is none): a
        // retry while the event consumer lags behind the answer is told to retry, not given a second job.
        String slot = tenant + "\n" + key;
        if (!s.submitting().add(slot)) {
            Problems.send(ctx, 409, "idempotency-in-flight", "Conflict",
                    "a request with this Idempotency-Key is still being processed; retry it");
            return;
        }
        Future<?> answered;
        try {
            answered = enqueue(ctx, tenant, key, accepted);
        } catch (RuntimeException e) {
            s.submitting().remove(slot);
            throw e;
        }
        answered.onComplete(ar -> s.submitting().remove(slot));
    }

    /**
     * Answers an accepted submission: the earlier job of its Idempotency-Key, 429 over the tenant's queue cap, or
     * the job stored on the broker (202) or not (503). The future completes once the answer is decided and a stored
     * job is in the job store.
     */
    private Future<?> enqueue(RoutingContext ctx, String tenant, String key, Accepted accepted) {
        String hash = HexFormat.of().formatHex(ApiKeys.sha256(Wire.toJson(accepted.request())));
        Instant now = Instant.now();
        Optional<JobStore.Idempotency> earlier = key == null ? Optional.empty()
                : s.store().idempotent(tenant, key, now);
        if (earlier.isPresent()) {
            replay(ctx, tenant, earlier.get().jobId(), earlier.get().requestHash().equals(hash));
            return Future.succeededFuture();
        }
        if (s.store().activeJobs(tenant) >= config.get(FarmConfig.MAX_ACTIVE_JOBS)) {
            s.metrics().submissionsRejected.incrementAndGet();
            ctx.response().putHeader("Retry-After", "10");
            Problems.send(ctx, 429, "queue-full", "Too Many Requests", "tenant " + tenant + " has "
                    + config.get(FarmConfig.MAX_ACTIVE_JOBS) + " unfinished jobs; wait for some to finish");
            return Future.succeededFuture();
        }
        String id = JobIds.next(now, random);
        long seed = accepted.request().seed() != null ? accepted.request().seed()
                : random.nextLong(JobRequest.MAX_SEED + 1);
        JobPlanner.Plan plan = s.planner().plan(id, tenant, now, accepted.request().resolve(accepted.model(), seed),
                key, hash);
        Publication stored = publishAndApply(s.planner().records(plan), tenant, id,
                () -> new JobState(plan.queued(), 1).document());
        stored.answer().onSuccess(doc -> {
            s.metrics().jobsSubmitted.incrementAndGet();
            s.metrics().tasksSubmitted.addAndGet(plan.tasks().size());
            ctx.response().setStatusCode(202).putHeader("Location", doc.links().self());
            json(ctx, doc);
        }).onFailure(e -> {
            s.metrics().submissionsUnavailable.incrementAndGet();
            LOG.warn("submission of job {} failed: {}", id, e.toString());
            // a commit that timed out can still complete on the broker: the answer names the job, so the client can
            // look before it submits again
            Problems.unavailable(ctx, "the broker did not confirm job " + id + ", which is then normally not queued ("
                    + "GET /v1/jobs/" + id + " finds it if the broker took it after all); retry later, with an "
                    + "Idempotency-Key to queue it once at most");
        });
        // a consumer that stopped would hold the key's slot for good; after SLOT_HOLD a retry may queue the job again
        return Future.fromCompletionStage(stored.applied().copy()
                .orTimeout(SLOT_HOLD.toMillis(), TimeUnit.MILLISECONDS));
    }

    private void rejectSubmission(RoutingContext ctx, Rejection r) {
        switch (r.reason()) {
            case MALFORMED -> Problems.send(ctx, 400, "malformed", "Bad Request", r.detail(), r.errors());
            case UNKNOWN_MODEL -> Problems.send(ctx, 404, "unknown-model", "Not Found", r.detail() + "; GET /v1/models "
                    + "lists the models", r.errors());
            case INVALID -> Problems.send(ctx, 422, "invalid-request", "Unprocessable Content", r.detail(), r.errors());
        }
    }

    /**
     * {@code result}, or its refusal when it needs the classifier that judges and labels samples (a file beside the
     * model's card, which the parser does not see) of a model that has none: {@code minConfidence}, and the labelled
     * outputs {@code idx} and {@code imagefolder} of samples without a requested class.
     */
    private JobRequestParser.Result classifierChecked(JobRequestParser.Result result) {
        if (!(result instanceof Accepted a) || !(a.request() instanceof GenerateRequest g)
                || s.models().model(a.model().name())
                        .map(m -> Files.exists(m.dir().resolve(ModelCard.CLASSIFIER_FILE_NAME))).orElse(false)) {
            return result;
        }
        String lacking = "model " + a.model().name() + " has no classifier (" + ModelCard.CLASSIFIER_FILE_NAME + ") to ";
        List<FieldError> errors = new ArrayList<>();
        if (g.minConfidence() != null) {
            errors.add(new FieldError("minConfidence", lacking + "judge its samples with"));
        }
        if (g.classLabel() == null && !g.dataset()
                && (g.outputs().contains(OutputFormat.IDX) || g.outputs().contains(OutputFormat.IMAGEFOLDER))) {
            errors.add(new FieldError("outputs", lacking + "label samples of no class with, which idx and imagefolder "
                    + "need: set class, perClass or classes, or use png or npy"));
        }
        return errors.isEmpty() ? result : JobRequestParser.invalid(errors);
    }

    /** Answers a repeated {@code Idempotency-Key}: the same job for the same body, 422 for another body. */
    private void replay(RoutingContext ctx, String tenant, String jobId, boolean sameBody) {
        if (!sameBody) {
            s.metrics().submissionsRejected.incrementAndGet();
            Problems.send(ctx, 422, "idempotency-key-reused", "Unprocessable Content",
                    "this Idempotency-Key was used within 24 h for a different request", List.of(
                            new FieldError("Idempotency-Key", "already used for another request body")));
            return;
        }
        JobDocument doc = s.store().find(tenant, jobId).orElseThrow().document();
        ctx.response().setStatusCode(202).putHeader("Location", doc.links().self())
                .putHeader("Idempotent-Replayed", "true");
        json(ctx, doc);
    }

    /**
     * Records written in one transaction: the answer to give, and when the event consumer has applied them
     * ({@code applied} fails with the transaction).
     */
    private record Publication(Future<JobDocument> answer, CompletableFuture<Void> applied) {
    }

    /**
     * Writes {@code records} in one transaction and waits until the event consumer has applied the first of them
     * (an event of job {@code jobId}), so the answer shows the job as every later request will see it. Should the
     * consumer lag behind, the answer is {@code fallback} after a few seconds: the records are stored either way.
     */
    private Publication publishAndApply(List<ProducerRecord<String, WireMessage>> records, String tenant,
                                        String jobId, Supplier<JobDocument> fallback) {
        Context context = vertx.getOrCreateContext();
        CompletableFuture<List<RecordMetadata>> published = s.publisher().publish(records);
        CompletableFuture<Void> applied = published.thenCompose(metadata -> s.store()
                .awaitApplied(metadata.get(0).partition(), metadata.get(0).offset()));
        CompletableFuture<JobDocument> answer = published.thenCompose(metadata -> applied.copy()
                .orTimeout(APPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((v, e) -> s.store().find(tenant, jobId).map(JobState::document).orElseGet(fallback)));
        return new Publication(Future.fromCompletionStage(answer, context), applied);
    }

    private void list(RoutingContext ctx) {
        Optional<JobStatus> status;
        Optional<JobType> type;
        try {
            status = enumParam(ctx, "status", JobStatus.class);
            type = enumParam(ctx, "type", JobType.class);
        } catch (IllegalArgumentException e) {
            return;
        }
        int limit = intParam(ctx, "limit", DEFAULT_PAGE);
        if (limit < 1 || limit > MAX_PAGE) {
            Problems.badRequest(ctx, "limit", "must be an integer between 1 and " + MAX_PAGE);
            return;
        }
        String cursor = param(ctx, "cursor");
        if (cursor != null && !JobIds.valid(cursor)) {
            Problems.badRequest(ctx, "cursor", "must be the nextCursor of a previous page");
            return;
        }
        json(ctx, s.store().list(tenant(ctx), status.orElse(null), type.orElse(null), limit, cursor));
    }

    /** The query parameter {@code name}, null when absent or empty (SPEC §3 writes the list's query as {@code status=&type=&…}). */
    private static String param(RoutingContext ctx, String name) {
        String value = ctx.queryParams().get(name);
        return value == null || value.isEmpty() ? null : value;
    }

    /**
     * The query parameter {@code name} as a constant of {@code type}, empty when absent.
     *
     * @throws IllegalArgumentException after answering 400, when the value is not one of the constants
     */
    private static <E extends Enum<E> & WireEnum> Optional<E> enumParam(RoutingContext ctx, String name,
                                                                         Class<E> type) {
        String value = param(ctx, name);
        try {
            return value == null ? Optional.empty() : Optional.of(WireEnum.parse(type, value));
        } catch (IllegalArgumentException e) {
            Problems.badRequest(ctx, name, e.getMessage());
            throw e;
        }
    }

    /** The integer query parameter {@code name}, {@code absent} when missing or empty, -1 when not an integer. */
    private static int intParam(RoutingContext ctx, String name, int absent) {
        String value = param(ctx, name);
        try {
            return value == null ? absent : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void get(RoutingContext ctx) {
        job(ctx).ifPresent(job -> json(ctx, job.document()));
    }

    private void cancel(RoutingContext ctx) {
        Optional<JobState> found = job(ctx);
        if (found.isEmpty()) {
            return;
        }
        JobState job = found.get();
        JobStatus status = job.status();
        if (status.terminal()) {
            Problems.send(ctx, 409, "already-finished", "Conflict", "job " + job.id() + " is already "
                    + status.wireName());
            return;
        }
        Instant now = Instant.now();
        StatusEvent cancelled = StatusEvent.of(job.id(), job.tenant(), JobEvent.JOB_LEVEL, now, JobStatus.CANCELLED);
        List<ProducerRecord<String, WireMessage>> records = List.of(
                new ProducerRecord<>(Topics.EVENTS, job.id(), cancelled),
                new ProducerRecord<>(Topics.CONTROL, job.id(), Control.cancel(job.id(), job.tenant(), now)));
        publishAndApply(records, job.tenant(), job.id(), job::document).answer().onSuccess(doc -> {
            s.metrics().cancellations.incrementAndGet();
            ctx.response().setStatusCode(202);
            json(ctx, doc);
        }).onFailure(e -> Problems.unavailable(ctx, "the cancellation could not be stored on the broker; retry"));
    }

    // ---- results and files ----------------------------------------------------------------------------------------

    private void results(RoutingContext ctx) {
        Optional<JobState> found = job(ctx);
        if (found.isEmpty()) {
            return;
        }
        JobState job = found.get();
        vertx.executeBlocking(() -> manifest(job).map(m -> new Manifest(m.files().stream()
                .map(f -> f.withUrl(url(job, f.path()))).toList())), false).onSuccess(manifest -> {
            if (manifest.isEmpty()) {
                Problems.notFound(ctx, "job " + job.id() + " is " + job.status().wireName()
                        + " and has no stored results yet");
                return;
            }
            json(ctx, manifest.get());
        }).onFailure(ctx::fail);
    }

    /**
     * Where a client downloads a result file: a presigned URL of the object store when {@code FARM_S3_PUBLIC_URLS}
     * is set and the store can presign, else the gateway's signed file URL. Runs off the event loop (presigning may
     * ask the store for its region).
     */
    private String url(JobState job, String path) {
        if (publicUrls) {
            Optional<java.net.URI> direct = s.objects().presignGet(ObjectKeys.key(job.tenant(), job.id(), path),
                    s.signer().ttl());
            if (direct.isPresent()) {
                return direct.get().toString();
            }
        }
        return s.signer().url(job.tenant(), job.id(), path, Instant.now());
    }

    /**
     * The job's manifest: {@code manifest.json}, or while there is none (a sharded job, or one that was cancelled)
     * the files of every stored shard manifest.
     */
    private Optional<Manifest> manifest(JobState job) {
        String prefix = ObjectKeys.jobPrefix(job.tenant(), job.id());
        Optional<byte[]> whole = s.objects().get(prefix + ObjectKeys.MANIFEST);
        if (whole.isPresent()) {
            return Optional.of(Wire.fromBytes(whole.get(), Manifest.class));
        }
        List<Manifest.File> files = new ArrayList<>();
        for (ObjectInfo info : s.objects().list(prefix + "shards/")) {
            if (info.key().endsWith("/" + ObjectKeys.MANIFEST)) {
                s.objects().get(info.key()).ifPresent(b -> files.addAll(Wire.fromBytes(b, Manifest.class).files()));
            }
        }
        return files.isEmpty() ? Optional.empty() : Optional.of(new Manifest(files));
    }

    /**
     * Streams one stored file of a job. The path must stay inside the job's prefix; a request without a key must
     * carry a valid signature for exactly this file.
     */
    private void file(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        String path = ctx.pathParam("*");
        if (!ObjectKeys.safeRelativePath(path)) {
            Problems.badRequest(ctx, "path", "must be a relative path of the job's files, without '..' or encoding");
            return;
        }
        Optional<JobState> job;
        if (Boolean.TRUE.equals(ctx.get(SIGNED))) {
            job = JobIds.valid(id) ? s.store().findAnyTenant(id) : Optional.empty();
            if (job.isEmpty() || !s.signer().valid(job.get().tenant(), id, path, ctx.request().getParam("exp"),
                    ctx.request().getParam("sig"), Instant.now())) {
                Problems.send(ctx, 403, "bad-signature", "Forbidden", "the URL's signature is invalid or expired");
                return;
            }
        } else {
            job = job(ctx);
            if (job.isEmpty()) {
                return;
            }
        }
        String key = ObjectKeys.key(job.get().tenant(), id, path);
        HttpServerResponse response = ctx.response();
        vertx.executeBlocking(() -> s.objects().stat(key), false).onSuccess(info -> {
            if (info.isEmpty()) {
                Problems.notFound(ctx, "job " + id + " has no file " + path);
                return;
            }
            response.putHeader("Content-Type", info.get().mediaType() == null ? "application/octet-stream"
                    : info.get().mediaType()).putHeader("Content-Length", Long.toString(info.get().size()))
                    .putHeader("Cache-Control", "private, max-age=300");
            vertx.executeBlocking(() -> s.objects().open(key).orElseThrow(() -> new IOException("object vanished: " + key)),
                    false).onSuccess(in -> new Download(key, in, response).read()).onFailure(e -> {
                        LOG.warn("streaming {} failed: {}", key, e.toString());
                        response.reset();
                    });
        }).onFailure(ctx::fail);
    }

    /**
     * One file on its way to a client: each chunk is read by a short task of the worker pool and written on the event
     * loop, and the next is read once the response has room. A client that reads slowly holds no thread (a pool of 20
     * would otherwise be taken by 20 of them), only its open object; one that reads nothing for {@link #DRAIN_WAIT} is
     * cut off.
     */
    private final class Download {
        private final String key;
        private final InputStream in;
        private final HttpServerResponse response;
        private boolean reading;
        private boolean gone;
        private boolean released;
        private long drainTimer = -1;

        Download(String key, InputStream in, HttpServerResponse response) {
            this.key = key;
            this.in = in;
            this.response = response;
            response.closeHandler(v -> {
                gone = true;
                vertx.cancelTimer(drainTimer);
                if (!reading) {
                    release();
                }
            });
            // a client that left while the object was opened: no close event will come
            gone = response.closed();
        }

        void read() {
            if (gone) {
                release();
                return;
            }
            reading = true;
            vertx.executeBlocking(() -> in.readNBytes(FILE_CHUNK), false).onComplete(ar -> {
                reading = false;
                if (gone) {
                    release();
                } else if (ar.failed()) {
                    LOG.warn("streaming {} failed: {}", key, ar.cause().toString());
                    response.reset();
                    release();
                } else if (ar.result().length == 0) {
                    response.end();
                    release();
                } else {
                    response.write(Buffer.buffer(ar.result()));
                    if (!response.writeQueueFull()) {
                        read();
                        return;
                    }
                    drainTimer = vertx.setTimer(DRAIN_WAIT.toMillis(), t -> {
                        gone = true;
                        response.reset();
                        release();
                    });
                    response.drainHandler(v -> {
                        vertx.cancelTimer(drainTimer);
                        read();
                    });
                }
            });
        }

        private void release() {
            if (!released) {
                released = true;
                vertx.executeBlocking(() -> {
                    in.close();
                    return null;
                }, false).onFailure(e -> LOG.debug("closing {} failed: {}", key, e.toString()));
            }
        }
    }

    // ---- events ---------------------------------------------------------------------------------------------------

    /**
     * The job's event stream (SPEC §4): first the current status (or with {@code ?since=SEQ} what came after SEQ),
     * then every new event, a ping every heartbeat interval, and a normal close after the terminal status.
     */
    private void events(RoutingContext ctx) {
        Optional<JobState> found = job(ctx);
        if (found.isEmpty()) {
            return;
        }
        String sinceText = ctx.queryParams().get("since");
        Long since = sinceText == null ? null : sinceText.matches("\\d{1,18}") ? Long.parseLong(sinceText) : -1L;
        if (since != null && since < 0) {
            Problems.badRequest(ctx, "since", "must be the seq of an event already received (an integer >= 0)");
            return;
        }
        if (!ctx.request().canUpgradeToWebSocket()) {
            Problems.send(ctx, 426, "upgrade-required", "Upgrade Required", "this is a WebSocket endpoint");
            return;
        }
        List<String> offered = offeredProtocols(ctx.request());
        if (!offered.isEmpty()) {
            // Browsers require one offered subprotocol back; prefer one that is not the key.
            String chosen = offered.stream().filter(p -> !p.startsWith(WS_BEARER)).findFirst().orElse(offered.get(0));
            ctx.response().putHeader("Sec-WebSocket-Protocol", chosen);
        }
        Long from = since;
        ctx.request().toWebSocket().onSuccess(ws -> follow(ws, found.get(), from))
                .onFailure(e -> LOG.debug("WebSocket handshake failed: {}", e.toString()));
    }

    private void follow(ServerWebSocket ws, JobState job, Long since) {
        Context context = vertx.getOrCreateContext();
        s.metrics().webSocketsOpen.incrementAndGet();
        EventSocket socket = new EventSocket(ws, since == null ? -1 : since, event -> render(job, event),
                config.get(FarmConfig.EVENTS_PER_JOB), s.metrics().webSocketEventsSent::incrementAndGet);
        JobStore.Subscription subscription = s.store().subscribe(job, since,
                event -> context.runOnContext(v -> socket.send(event)));
        long heartbeat = vertx.setPeriodic(config.get(FarmConfig.WS_HEARTBEAT).toMillis(),
                t -> ws.writePing(Buffer.buffer("farm")));
        socket.onClosing(() -> {
            subscription.cancel().run();
            vertx.cancelTimer(heartbeat);
        });
        ws.closeHandler(v -> {
            socket.closed();
            s.metrics().webSocketsOpen.decrementAndGet();
        });
        ws.exceptionHandler(e -> LOG.debug("WebSocket of job {}: {}", job.id(), e.toString()));
        ws.handler(b -> { });
        subscription.replay().forEach(socket::send);
        // decided on the subscription's snapshot: a job that finished since then has its last events on their way to
        // the listener, and closing now would drop them
        if (subscription.replay().isEmpty() && !subscription.live()) {
            socket.close((short) 1000, "job " + job.status().wireName());
        }
    }

    /** An event as its client receives it: a frame's images as signed URLs. */
    private String render(JobState job, JobEvent event) {
        JobEvent out = event instanceof FrameEvent f ? f.withImages(
                s.signer().url(job.tenant(), job.id(), f.xt(), Instant.now()),
                s.signer().url(job.tenant(), job.id(), f.x0(), Instant.now())) : event;
        return Wire.toJson(out);
    }

    // ---- the web page --------------------------------------------------------------------------------------------

    /**
     * The page (plain files under {@code webroot/}) runs only its own script and talks only to this gateway; images
     * may come from the object store when {@code FARM_S3_PUBLIC_URLS} hands out its presigned URLs.
     */
    private static void pageHeaders(RoutingContext ctx) {
        ctx.response().putHeader("Content-Security-Policy", "default-src 'self'; "
                + "img-src 'self' data: blob: http: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'")
                .putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer");
        ctx.next();
    }

    // ---- models, health, metrics ----------------------------------------------------------------------------------

    private void models(RoutingContext ctx) {
        List<ModelCard> cards = List.copyOf(s.models().all());
        json(ctx, Map.of("models", cards));
    }

    /**
     * One image of a built-in dataset as a PNG with its class in {@code X-Class} ("9 Ankle boot"), so that a client
     * can show the images a progressive or rate-distortion job may take by index. A set is read once, when first
     * asked for.
     */
    private void datasetImage(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        Optional<Dataset> dataset = Arrays.stream(Dataset.values()).filter(d -> d.wireName().equals(name)).findFirst();
        if (dataset.isEmpty()) {
            Problems.notFound(ctx, "no dataset " + name + "; the built-in ones are " + Arrays.stream(Dataset.values())
                    .map(Dataset::wireName).toList());
            return;
        }
        String indexText = ctx.pathParam("index");
        int size = dataset.get().size();
        int index = indexText.matches("\\d{1,9}") ? Integer.parseInt(indexText) : -1;
        if (index < 0 || index >= size) {
            Problems.badRequest(ctx, "index", "must be an integer between 0 and " + (size - 1));
            return;
        }
        vertx.executeBlocking(() -> {
            LabeledImages images = s.datasets().get(dataset.get());
            if (images == null) {
                images = FashionMnist.load(FashionMnist.split(dataset.get()));
                s.datasets().put(dataset.get(), images);
            }
            return images;
        }).onSuccess(images -> {
            int label = images.labels()[index];
            ctx.response().putHeader("Content-Type", "image/png").putHeader("Cache-Control", "private, max-age=86400")
                    .putHeader("X-Class", label + " " + FashionMnist.CLASS_NAMES.get(label))
                    .end(Buffer.buffer(grayPng(images, index)));
        }).onFailure(e -> Problems.send(ctx, 503, "dataset-unavailable", "Service Unavailable", e.getMessage()));
    }

    private static byte[] grayPng(LabeledImages images, int index) {
        BufferedImage image = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setDataElements(0, 0, images.width(), images.height(), Arrays.copyOfRange(images.pixels(),
                index * images.imageSize(), (index + 1) * images.imageSize()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void health(RoutingContext ctx) {
        if (s.metrics().eventsReading.get()) {
            json(ctx, Map.of("status", "up", "jobs", s.store().size()));
        } else {
            ctx.response().setStatusCode(503);
            json(ctx, Map.of("status", "down", "reason", "the gateway stopped reading farm.events.v1; see its log"));
        }
    }

    private void metrics(RoutingContext ctx) {
        ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(s.metrics().render(s.store()));
    }

    private void internalError(RoutingContext ctx) {
        LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
        Problems.send(ctx, 500, "internal", "Internal Server Error", "the gateway failed to answer; see its log");
    }

    private static void json(RoutingContext ctx, Object body) {
        ctx.response().putHeader("Content-Type", "application/json").end(Wire.toJson(body));
    }

    @Override
    public Future<?> stop() {
        return (server == null ? Future.succeededFuture() : server.close()).eventually(uploadChecks::close);
    }
}

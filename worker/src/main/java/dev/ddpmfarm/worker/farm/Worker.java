package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.ModelRegistry;
import dev.ddpmfarm.common.model.PublishedModels;
import dev.ddpmfarm.common.store.ObjectStore;
import dev.ddpmfarm.common.wire.Control;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.VerticleBase;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker verticle: runs one {@link SamplingLoop} on its own thread (the loop blocks on the denoiser, so it stays off
 * Vert.x's event loop and worker pool). Deploy one per process: the continuous batch is the unit of parallelism and
 * ND4J already uses every core for each forward pass. Undeploying stops the loop after its current step, checkpoints
 * its tasks and leaves the consumer group, so another worker resumes them.
 */
public final class Worker extends VerticleBase {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
    private static final long STATS_INTERVAL_MS = 60_000;

    private final ObjectStore objects;
    private final WorkerStats stats = new WorkerStats();
    /** Stores finished tasks' results while the batch goes on. */
    private final ExecutorService results = Executors.newFixedThreadPool(2, daemon("farm-results"));
    /** The concurrent puts of one task's files. */
    private final ExecutorService uploads = Executors.newFixedThreadPool(8, daemon("farm-upload"));
    private SamplingLoop loop;
    private PublishedModels.Mirror models;
    private Thread thread;
    private long statsTimer;
    private volatile int metricsPort = -1;

    /** A worker storing into {@code objects}; its settings come from the deployment's config ({@link FarmConfig}). */
    public Worker(ObjectStore objects) {
        this.objects = objects;
    }

    /** Deploys a worker with {@code config} on {@code vertx}; completes once it has started its loop. */
    public static Future<Worker> deploy(Vertx vertx, FarmConfig config, ObjectStore objects) {
        Worker worker = new Worker(objects);
        return vertx.deployVerticle(worker, new DeploymentOptions().setConfig(new JsonObject(new HashMap<>(config.asMap()))))
                .map(id -> worker);
    }

    /** Stops the loop (see the class comment). */
    public Future<Void> close() {
        return vertx.undeploy(deploymentID());
    }

    public WorkerStats stats() {
        return stats;
    }

    @Override
    public Future<?> start() {
        FarmConfig config = FarmConfig.from(config().getMap());
        String id = "farm-worker-" + ManagementFactory.getRuntimeMXBean().getName() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        return vertx.executeBlocking(() -> {
            Consumer<String, byte[]> tasks = KafkaClients.rawConsumer(config, id, config.get(FarmConfig.WORKER_GROUP),
                    16);
            Consumer<String, Control> control = KafkaClients.reader(config, id + "-control", Control.class);
            Producer<String, byte[]> producer = KafkaClients.rawProducer(config, id);
            models = PublishedModels.follow(config, objects);
            loop = new SamplingLoop(config, tasks, control, producer, new ShardStore(objects, id, uploads), results,
                    new ModelRegistry(config.get(FarmConfig.MODELS_DIR)), stats);
            thread = new Thread(() -> {
                try (tasks; control; producer) {
                    loop.run();
                } catch (RuntimeException | Error e) {
                    // the consumer is closed on the way out, so the group hands this worker's tasks to the others
                    LOG.error("the sampling loop stopped; this worker takes no more tasks and /health answers 503", e);
                }
            }, "farm-sampler");
            // below the gateway, Kafka and S3 threads of a shared machine (nice 4 with -XX:ThreadPriorityPolicy=1,
            // as scripts/farm runs Java); ND4J's OpenMP threads, started from this thread, inherit it
            thread.setPriority(Thread.MIN_PRIORITY);
            thread.start();
            LOG.info("worker {} started (group {}, batch {} rows)", id, config.get(FarmConfig.WORKER_GROUP),
                    config.get(FarmConfig.WORKER_MAX_BATCH));
            return null;
        }).compose(v -> serveMetrics(config.get(FarmConfig.WORKER_METRICS_PORT)))
                .onSuccess(v -> statsTimer = vertx.setPeriodic(STATS_INTERVAL_MS, t -> LOG.info("worker: {}", stats)));
    }

    /** {@code GET /metrics} and {@code GET /health} on {@code port}; a port in use only costs the metrics. */
    private Future<Void> serveMetrics(int port) {
        return vertx.createHttpServer().requestHandler(req -> {
            if (req.method() == HttpMethod.GET && req.path().equals("/metrics")) {
                req.response().putHeader("Content-Type", "text/plain; version=0.0.4").end(stats.render());
            } else if (req.method() == HttpMethod.GET && req.path().equals("/health")) {
                boolean up = thread != null && thread.isAlive();
                req.response().setStatusCode(up ? 200 : 503).putHeader("Content-Type", "application/json")
                        .end(up ? "{\"status\":\"up\"}"
                                : "{\"status\":\"down\",\"reason\":\"the sampling loop stopped\"}");
            } else {
                req.response().setStatusCode(404).end();
            }
        }).listen(port).onSuccess(server -> {
            metricsPort = server.actualPort();
            LOG.info("worker metrics on http://localhost:{}/metrics", metricsPort);
        }).<Void>mapEmpty().recover(e -> {
            LOG.warn("worker metrics not served: cannot listen on port {} ({}); set FARM_WORKER_METRICS_PORT", port,
                    e.getMessage());
            return Future.succeededFuture();
        });
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The port of the worker's metrics, or -1 when it serves none. */
    public int metricsPort() {
        return metricsPort;
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(statsTimer);
        loop.stop();
        return vertx.executeBlocking(() -> {
            models.close();
            thread.join(60_000);
            results.shutdown();
            uploads.shutdown();
            LOG.info("worker stopped: {}", stats);
            return null;
        });
    }
}

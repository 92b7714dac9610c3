package dev.ddpmfarm.infra;

import dev.ddpmfarm.clients.kafka.FarmTopics;
import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.embedded.EmbeddedKafka;
import dev.ddpmfarm.embedded.EmbeddedS3;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * {@code farm cluster [--workers N]}: the farm as a deployment over several machines runs it, here on loopback. The
 * Kafka broker and the S3 server run in processes of their own ({@code farm kafka}, {@code farm s3}), the gateway and
 * N workers as separate JVMs ({@code farm gateway}, {@code farm worker}), all configured by the same {@code FARM_*}
 * variables a real cluster uses. Each process logs to {@code FARM_DATA_DIR/logs/NAME.log}; the process ids are in
 * {@code FARM_DATA_DIR/cluster.pids}, so a worker can be killed to see its tasks move to the others. Ctrl-C stops the
 * workers, the gateway, the S3 server and the broker, in that order.
 */
public final class ClusterCommand {
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final Path data;
    private final Deque<Child> running = new ArrayDeque<>();

    /** One started process. */
    private record Child(String name, Process process, Path log) {
    }

    private ClusterCommand(Path data) {
        this.data = data;
    }

    public static void main(String[] args) throws Exception {
        int workers = 3;
        if (args.length == 2 && args[0].equals("--workers")) {
            workers = Integer.parseInt(args[1]);
        } else if (args.length != 0) {
            throw new IllegalArgumentException("usage: cluster [--workers N]");
        }
        if (workers < 1 || workers > 64) {
            throw new IllegalArgumentException("--workers must be between 1 and 64, was " + workers);
        }
        FarmConfig config = FarmConfig.fromEnvironment();
        ClusterCommand cluster = new ClusterCommand(config.get(FarmConfig.DATA_DIR).toAbsolutePath());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cluster.stopAll();
            stopped.countDown();
        }, "farm-cluster-stop"));
        cluster.start(config, workers, System.out);
        stopped.await();
    }

    private void start(FarmConfig config, int workers, PrintStream out) throws Exception {
        Files.createDirectories(data.resolve("logs"));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(FarmConfig.DATA_DIR.name(), data.toString());
        String access = config.get(FarmConfig.S3_ACCESS_KEY);
        if (access.isEmpty()) {
            env.put(FarmConfig.S3_ACCESS_KEY.name(), "farm" + EmbeddedStack.randomHex(8));
            env.put(FarmConfig.S3_SECRET_KEY.name(), EmbeddedStack.randomHex(20));
        }
        String generatedKey = null;
        if (config.get(FarmConfig.API_KEYS).isEmpty()) {
            generatedKey = EmbeddedStack.randomHex(16);
            env.put(FarmConfig.API_KEYS.name(), EmbeddedStack.LOCAL_TENANT + ":" + generatedKey);
        }
        FarmConfig effective = FarmConfig.from(env);

        int httpPort = effective.get(FarmConfig.HTTP_PORT);
        awaitPort(spawn("kafka", env), EmbeddedStack.kafkaPort(effective));
        awaitPort(spawn("s3", env), EmbeddedStack.s3Port(effective));
        try (Admin admin = KafkaClients.admin(effective, "farm-cluster")) {
            FarmTopics.ensure(admin, effective.get(FarmConfig.KAFKA_REPLICATION));
        }
        Child gateway = spawn("gateway", env);
        awaitHealthy(gateway, URI.create("http://127.0.0.1:" + httpPort + "/health"));
        int metricsBase = effective.get(FarmConfig.WORKER_METRICS_PORT);
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / workers);
        for (int i = 1; i <= workers; i++) {
            Map<String, String> workerEnv = new HashMap<>(env);
            workerEnv.put(FarmConfig.WORKER_METRICS_PORT.name(), Integer.toString(metricsBase + i - 1));
            workerEnv.putIfAbsent("OMP_NUM_THREADS", Integer.toString(threads));
            spawn("worker", "worker-" + i, workerEnv);
        }
        writePids();
        for (Child c : oldestFirst()) {
            c.process().onExit().thenAccept(p -> {
                if (oldestFirst().contains(c)) {
                    System.err.printf("%s (pid %d) exited with status %d; see %s%n", c.name(), p.pid(), p.exitValue(),
                            c.log());
                }
            });
        }

        out.println();
        out.println("ddpm-farm cluster is up: http://localhost:" + httpPort + "/  (" + workers + " worker processes)");
        out.println("  API key   " + (generatedKey != null ? generatedKey + "   (tenant " + EmbeddedStack.LOCAL_TENANT
                + ", generated because FARM_API_KEYS is unset)" : "from FARM_API_KEYS"));
        for (Child c : oldestFirst()) {
            out.printf("  %-9s pid %-7d log %s%n", c.name(), c.process().pid(), c.log());
        }
        out.println("  workers   metrics at http://localhost:" + metricsBase + "/metrics … :"
                + (metricsBase + workers - 1));
        out.println("  Kafka " + effective.get(FarmConfig.KAFKA_BOOTSTRAP) + ", S3 "
                + effective.get(FarmConfig.S3_ENDPOINT) + ", data in " + data + ", pids in "
                + data.resolve("cluster.pids"));
        out.println();
        out.println("  export FARM_API_KEY=" + (generatedKey != null ? generatedKey : "<your key>"));
        out.println("  scripts/farm augment --per-class 100 --out augmented");
        out.println();
        out.println("Ctrl-C stops the cluster.");
        out.flush();
    }

    private Child spawn(String command, Map<String, String> env) throws IOException {
        return spawn(command, command, env);
    }

    /** Starts {@code farm COMMAND} as a JVM like this one (same java, class path and options), logging to a file. */
    private Child spawn(String command, String name, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), command));
        Path log = data.resolve("logs").resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().clear();
        builder.environment().putAll(env);
        Child child = new Child(name, builder.start(), log);
        synchronized (running) {
            running.push(child);
        }
        return child;
    }

    private static void awaitPort(Child child, int port) throws Exception {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException notYet) {
                checkAlive(child, deadline);
                Thread.sleep(200);
            }
        }
    }

    private static void awaitHealthy(Child child, URI health) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            try {
                if (http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            checkAlive(child, deadline);
            Thread.sleep(200);
        }
    }

    private static void checkAlive(Child child, long deadline) {
        if (!child.process().isAlive()) {
            throw new IllegalStateException(child.name() + " exited with status " + child.process().exitValue()
                    + "; see " + child.log());
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException(child.name() + " was not ready within " + READY_TIMEOUT.toSeconds()
                    + " s; see " + child.log());
        }
    }

    private List<Child> oldestFirst() {
        synchronized (running) {
            List<Child> children = new ArrayList<>();
            running.descendingIterator().forEachRemaining(children::add);
            return children;
        }
    }

    private void writePids() throws IOException {
        StringBuilder pids = new StringBuilder();
        for (Child c : oldestFirst()) {
            pids.append(c.name()).append(' ').append(c.process().pid()).append('\n');
        }
        Files.writeString(data.resolve("cluster.pids"), pids);
    }

    /** Stops the processes newest first (workers, gateway, S3, broker), each with SIGTERM, then by force. */
    private void stopAll() {
        while (true) {
            Child c;
            synchronized (running) {
                c = running.poll();
            }
            if (c == null) {
                return;
            }
            c.process().destroy();
            try {
                if (!c.process().waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    System.err.println(c.name() + " did not stop within " + STOP_TIMEOUT.toSeconds() + " s; killing it");
                    c.process().destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** {@code farm kafka}: the embedded KRaft broker alone, on the port of FARM_KAFKA_BOOTSTRAP, until stopped. */
    static void kafka(String[] args) throws Exception {
        noArguments("kafka", args);
        FarmConfig config = FarmConfig.fromEnvironment();
        EmbeddedKafka kafka = EmbeddedKafka.start(config.get(FarmConfig.DATA_DIR).resolve("kafka"),
                EmbeddedStack.kafkaPort(config));
        System.out.println("Kafka broker on " + kafka.bootstrap());
        runUntilStopped(kafka);
    }

    /** {@code farm s3}: the embedded S3 server alone, on FARM_S3_ENDPOINT's port with FARM_S3_* keys, until stopped. */
    static void s3(String[] args) throws Exception {
        noArguments("s3", args);
        FarmConfig config = FarmConfig.fromEnvironment();
        EmbeddedS3 s3 = EmbeddedS3.start(config.get(FarmConfig.DATA_DIR).resolve("s3"), EmbeddedStack.s3Port(config),
                config.get(FarmConfig.S3_ACCESS_KEY), config.get(FarmConfig.S3_SECRET_KEY));
        System.out.println("S3 server on " + s3.endpoint());
        runUntilStopped(s3);
    }

    private static void noArguments(String command, String[] args) {
        if (args.length > 0) {
            throw new IllegalArgumentException(command + " takes no arguments: it is configured by FARM_* variables");
        }
    }

    private static void runUntilStopped(AutoCloseable service) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                service.close();
            } catch (Exception e) {
                System.err.println("did not stop cleanly: " + e);
            }
            stopped.countDown();
        }));
        stopped.await();
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.clients.kafka.KafkaClients;
import dev.ddpmfarm.common.config.FarmConfig;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.common.store.InMemoryObjectStore;
import dev.ddpmfarm.common.wire.JobDocument;
import dev.ddpmfarm.common.wire.JobEvent;
import dev.ddpmfarm.common.wire.Topics;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.common.wire.WireMessage;
import dev.ddpmfarm.embedded.EmbeddedKafka;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A gateway on a real embedded broker, with the in-memory object store and a model directory holding a
 * class-conditional Fashion-MNIST card with a classifier and the same card without one; plus the clients a test needs: HTTP, WebSocket, a reader of any topic and a
 * producer that plays the worker.
 */
final class GatewayFixture implements AutoCloseable {
    static final String ACME_KEY = "acme-key-0123456789";
    static final String GLOBEX_KEY = "globex-key-0123456789";
    static final Duration WAIT = Duration.ofSeconds(20);

    final EmbeddedKafka kafka;
    final Vertx vertx;
    final InMemoryObjectStore objects = new InMemoryObjectStore();
    final FarmConfig config;
    final Producer<String, WireMessage> worker;
    private final HttpClient webSockets = HttpClient.newHttpClient();
    private boolean paused;
    Gateway gateway;
    WebClient http;

    GatewayFixture(Vertx vertx, Map<String, String> overrides) throws Exception {
        this.vertx = vertx;
        this.kafka = EmbeddedKafka.start();
        Path models = Files.createTempDirectory("farm-models");
        for (String name : List.of("fashion-mnist", "fashion-mnist-bare")) {
            new ModelCard(name, new int[]{1, 28, 28}, 1000, "linear", List.of("T-shirt/top", "Trouser", "Pullover",
                    "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"), null, 1000, null, null)
                    .write(models.resolve(name));
        }
        // the gateway only looks whether the classifier is there (minConfidence needs it)
        Files.writeString(models.resolve("fashion-mnist").resolve(ModelCard.CLASSIFIER_FILE_NAME), "");
        Map<String, String> settings = new HashMap<>(Map.of(
                "FARM_KAFKA_BOOTSTRAP", kafka.bootstrap(),
                "FARM_HTTP_PORT", "0",
                "FARM_HTTP_HOST", "127.0.0.1",
                "FARM_HTTP_INSTANCES", "2",
                "FARM_API_KEYS", "acme:" + ACME_KEY + ",globex:" + GLOBEX_KEY,
                "FARM_MODELS_DIR", models.toString(),
                "FARM_MAX_BODY_BYTES", "4096",
                "FARM_WS_HEARTBEAT_SECONDS", "1"));
        settings.putAll(overrides);
        this.config = FarmConfig.from(settings);
        this.worker = KafkaClients.producer(config, "test-worker");
        startGateway();
    }

    void startGateway() throws Exception {
        gateway = await(Gateway.start(vertx, config, objects));
        http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(gateway.port()));
    }

    void stopGateway() throws Exception {
        http.close();
        await(gateway.close());
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    HttpResponse<Buffer> send(HttpRequest<Buffer> request, String key, String body) throws Exception {
        if (key != null) {
            request.putHeader("Authorization", "Bearer " + key);
        }
        return await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    }

    HttpResponse<Buffer> post(String key, String body) throws Exception {
        return send(http.post("/v1/jobs").putHeader("Content-Type", "application/json"), key, body);
    }

    HttpResponse<Buffer> get(String key, String uri) throws Exception {
        return send(http.get(uri), key, null);
    }

    /**
     * The job document once {@code done} holds: the gateway applies events from the topic on its own thread, so an
     * event acknowledged by the broker shows in the document a moment later.
     */
    JobDocument document(String key, String id, Predicate<JobDocument> done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JobDocument doc = Wire.fromBytes(get(key, "/v1/jobs/" + id).body().getBytes(), JobDocument.class);
        while (!done.test(doc) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            doc = Wire.fromBytes(get(key, "/v1/jobs/" + id).body().getBytes(), JobDocument.class);
        }
        return doc;
    }

    /** Plays a worker: writes events of a job to the events topic and waits for the broker's ack. */
    void emit(JobEvent... events) throws Exception {
        for (JobEvent e : events) {
            worker.send(new ProducerRecord<>(Topics.EVENTS, e.jobId(), e)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** Sum of the end offsets of {@code topic}: grows with every record written. */
    long endOffset(String topic) {
        try (Consumer<String, byte[]> c = rawReader()) {
            List<TopicPartition> parts = partitions(c, topic);
            return c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * The values of {@code topic} (read committed) whose key is {@code jobId}: everything the topic held when
     * called, and more until {@code done} holds (or the wait ends).
     */
    <T> List<ConsumerRecord<String, T>> records(String topic, Class<T> type, String jobId,
                                               Predicate<List<ConsumerRecord<String, T>>> done) {
        try (Consumer<String, byte[]> c = rawReader()) {
            List<TopicPartition> parts = partitions(c, topic);
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, T>> found = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline
                    && !(parts.stream().allMatch(tp -> c.position(tp) >= end.get(tp)) && done.test(found))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                    if (jobId.equals(r.key())) {
                        found.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.key(),
                                Wire.fromBytes(r.value(), type)));
                    }
                }
            }
            return found;
        }
    }

    private Consumer<String, byte[]> rawReader() {
        Map<String, Object> settings = KafkaClients.readerSettings(config, "test-reader");
        return new org.apache.kafka.clients.consumer.KafkaConsumer<>(settings,
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(Consumer<String, byte[]> c, String topic) {
        return c.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /**
     * A WebSocket to a job's events that collects the text messages, the pings and the close code. It uses the JDK's
     * client like the project's command-line client: Vert.x 5.1.1's client now and then dropped the last text message
     * when the server's close frame came right behind it.
     */
    Events connect(String uri, List<String> subprotocols, String headerKey) throws Exception {
        WebSocket.Builder builder = webSockets.newWebSocketBuilder().connectTimeout(WAIT);
        if (headerKey != null) {
            builder.header("Authorization", "Bearer " + headerKey);
        }
        if (!subprotocols.isEmpty()) {
            builder.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
        }
        Events events = new Events(paused);
        events.gatewayState = this::gatewayState;
        try {
            events.ws = builder.buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + uri), events)
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                throw new IllegalStateException("the upgrade was answered " + refused.getResponse().statusCode(), e);
            }
            throw e;
        }
        events.subprotocol = events.ws.getSubprotocol();
        return events;
    }

    /** A WebSocket like {@link #connect} that reads nothing until {@link Events#resume()}. */
    Events connectPaused(String uri, String headerKey) throws Exception {
        paused = true;
        try {
            return connect(uri, List.of(), headerKey);
        } finally {
            paused = false;
        }
    }

    /** The gateway's port and its event and WebSocket counters, to tell where an event that never came stopped. */
    private String gatewayState() {
        try {
            return "port " + gateway.port() + ", " + send(http.get("/metrics"), ACME_KEY, null).bodyAsString().lines()
                    .filter(l -> l.startsWith("farm_events_") || l.startsWith("farm_event_lag")
                            || l.startsWith("farm_websocket")).toList();
        } catch (Exception e) {
            return "unreachable: " + e;
        }
    }

    /** What a WebSocket client received. */
    static final class Events implements WebSocket.Listener {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Short> closed = new CompletableFuture<>();
        final CompletableFuture<Void> pings = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();
        private final boolean paused;
        String subprotocol;
        WebSocket ws;
        Supplier<String> gatewayState;

        Events(boolean paused) {
            this.paused = paused;
        }

        @Override
        public void onOpen(WebSocket socket) {
            if (!paused) {
                socket.request(1);
            }
        }

        /** Starts reading a socket opened paused. */
        void resume() {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket socket, ByteBuffer message) {
            pings.complete(null);
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            closed.complete((short) statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            closed.completeExceptionally(error);
        }

        /** Closes the socket from this side. */
        void close() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        }

        /** The next event, parsed. */
        JobEvent next() throws InterruptedException {
            String text = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (text == null) {
                throw new AssertionError("no event within " + WAIT + (closed.isDone()
                        ? "; the socket closed with " + closed.getNow(null) : "; the socket is open")
                        + "; the gateway: " + gatewayState.get());
            }
            return Wire.fromJson(text, JobEvent.class);
        }

        short closeCode() throws Exception {
            return closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws Exception {
        stopGateway();
        worker.close();
        kafka.close();
    }
}

package dev.ddpmfarm.common.config;

import dev.ddpmfarm.common.wire.Tenants;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The farm's configuration: environment variables (SPEC §2), each defined once below with its default, its
 * validation and its documentation side by side, after Kafka's {@code ProducerConfig}. Every process (embedded stack,
 * gateway, worker) loads it once with {@link #fromEnvironment()} and hands {@link #asMap()} to its verticles, which
 * rebuild it with {@link #from(Map)}; tests build it from a map. No host, port or limit literal lives elsewhere.
 */
public final class FarmConfig {

    /**
     * One setting.
     *
     * @param name         the environment variable
     * @param defaultValue the value when unset (as text), or null when there is none
     * @param parse        turns the text into the value, throwing {@link IllegalArgumentException} when invalid
     * @param doc          what it does, for humans
     * @param secret       true for credentials: masked in {@link #toString()} and {@link #describe()}
     */
    public record Key<T>(String name, String defaultValue, Function<String, T> parse, String doc, boolean secret) {
    }

    private static final List<Key<?>> KEYS = new ArrayList<>();

    // ---- Kafka ----------------------------------------------------------------------------------------------------
    public static final Key<String> KAFKA_BOOTSTRAP = define("FARM_KAFKA_BOOTSTRAP", "localhost:9092",
            FarmConfig::hostPorts, "Kafka bootstrap servers, host:port[,host:port...].");
    public static final Key<Integer> KAFKA_REPLICATION = define("FARM_KAFKA_REPLICATION", "1", intIn(1, 16),
            "Replication factor of the topics the farm creates (1 for a single broker, 3 for a production cluster).");

    // ---- Object store ---------------------------------------------------------------------------------------------
    public static final Key<URI> S3_ENDPOINT = define("FARM_S3_ENDPOINT", "http://localhost:9000",
            FarmConfig::httpUri, "S3 / MinIO endpoint URL.");
    public static final Key<String> S3_ACCESS_KEY = defineSecret("FARM_S3_ACCESS_KEY", "", Function.identity(),
            "S3 access key id; empty for anonymous access.");
    public static final Key<String> S3_SECRET_KEY = defineSecret("FARM_S3_SECRET_KEY", "", Function.identity(),
            "S3 secret access key.");
    public static final Key<String> S3_BUCKET = define("FARM_S3_BUCKET", "farm", FarmConfig::bucket,
            "Bucket holding every tenant's jobs (SPEC §6); created when missing.");
    public static final Key<String> S3_REGION = define("FARM_S3_REGION", "us-east-1", nonBlank(),
            "S3 region used for request signing.");
    public static final Key<Boolean> S3_PUBLIC_URLS = define("FARM_S3_PUBLIC_URLS", "false", FarmConfig::bool,
            "true: result URLs in manifests are presigned GETs straight from the object store (set it when clients "
                    + "reach FARM_S3_ENDPOINT); false: they stream through the gateway.");

    // ---- Gateway --------------------------------------------------------------------------------------------------
    public static final Key<String> HTTP_HOST = define("FARM_HTTP_HOST", "0.0.0.0", nonBlank(),
            "Interface the gateway listens on.");
    public static final Key<Integer> HTTP_PORT = define("FARM_HTTP_PORT", "8080", intIn(0, 65535),
            "Port of the gateway's HTTP API, WebSocket and UI; 0 picks a free port.");
    public static final Key<Integer> HTTP_INSTANCES = define("FARM_HTTP_INSTANCES", "0", intIn(0, 256),
            "Event loops serving the gateway's HTTP API and WebSockets, sharing one port; 0: one per CPU core.");
    public static final Key<List<ApiKey>> API_KEYS = defineSecret("FARM_API_KEYS", "", FarmConfig::apiKeys,
            "API keys as tenant:key[,tenant:key...]; a key belongs to one tenant. When empty, the embedded stack "
                    + "generates one key and prints it.");
    public static final Key<String> URL_SIGNING_KEY = defineSecret("FARM_URL_SIGNING_KEY", "", Function.identity(),
            "HMAC key of the ?exp=&sig= file URLs; give every gateway of a cluster the same one. Empty: a random key "
                    + "per process (URLs then die with the process).");
    public static final Key<Duration> URL_TTL = define("FARM_URL_TTL_SECONDS", "900", secondsIn(1, 86_400),
            "Lifetime of signed file URLs in manifests and events, in seconds.");
    public static final Key<Integer> MAX_BODY_BYTES = define("FARM_MAX_BODY_BYTES", "524288", intIn(1024, 960 << 10),
            "Largest accepted request body in bytes (413 beyond), at most 960 KiB: the job's task and its queued event "
                    + "each carry the whole request, and a record must stay under Kafka's default limit of 1 MB.");
    public static final Key<Integer> MAX_ACTIVE_JOBS = define("FARM_MAX_ACTIVE_JOBS", "100", intIn(1, 1_000_000),
            "Unfinished jobs a tenant may have; more submissions get 429 with Retry-After.");
    public static final Key<Integer> RATE_LIMIT = define("FARM_RATE_LIMIT", "200", intIn(1, 1_000_000),
            "Requests a second one API key may make on average (and at once after a quiet second); more get 429 "
                    + "with Retry-After.");
    public static final Key<Integer> SHARD_SIZE = define("FARM_SHARD_SIZE", "256", intIn(1, 100_000),
            "Most samples in one task: a generate job is split into tasks of this many consecutive sample indices.");
    public static final Key<Duration> SUBMIT_TIMEOUT = define("FARM_SUBMIT_TIMEOUT_MS", "10000", millisIn(100, 120_000),
            "How long a submission waits for the broker to acknowledge it before the client gets 503.");
    public static final Key<Duration> WS_HEARTBEAT = define("FARM_WS_HEARTBEAT_SECONDS", "15", secondsIn(1, 3600),
            "Interval of WebSocket ping frames.");
    public static final Key<Integer> EVENTS_PER_JOB = define("FARM_EVENTS_PER_JOB", "10000", intIn(16, 10_000_000),
            "Events kept in memory per job for ?since= replay; older ones are dropped (a client asking for them gets "
                    + "the current status instead).");
    public static final Key<Path> MODELS_DIR = define("FARM_MODELS_DIR", "models", Path::of,
            "Directory of model directories, each with a config.json (SPEC §7).");
    public static final Key<String> MODELS_PREFIX = define("FARM_MODELS_PREFIX", "", FarmConfig::modelsPrefix,
            "Key prefix in FARM_S3_BUCKET of published models ({prefix}{name}/config.json, model.safetensors, ...; "
                    + "scripts/farm publish puts one there), e.g. models/. When set, gateways and workers mirror them "
                    + "into FARM_MODELS_DIR. Empty: FARM_MODELS_DIR alone.");
    public static final Key<Duration> MODELS_SYNC_INTERVAL = define("FARM_MODELS_SYNC_SECONDS", "60",
            secondsIn(1, 86_400), "How often a process looks for models published under FARM_MODELS_PREFIX.");

    // ---- Storage of the embedded stack ----------------------------------------------------------------------------
    public static final Key<Path> DATA_DIR = define("FARM_DATA_DIR", "data", Path::of,
            "Where the embedded broker and object store keep their data.");

    // ---- Client (scripts/farm submit, watch, get) ------------------------------------------------------------------
    public static final Key<URI> CLIENT_URL = define("FARM_URL", "http://localhost:8080", FarmConfig::httpUri,
            "The gateway the command-line client talks to.");
    public static final Key<String> CLIENT_API_KEY = defineSecret("FARM_API_KEY", "", Function.identity(),
            "The API key the command-line client sends.");

    // ---- Worker ---------------------------------------------------------------------------------------------------
    public static final Key<String> WORKER_GROUP = define("FARM_WORKER_GROUP", "farm-workers", nonBlank(),
            "Kafka consumer group of the workers; every worker of a farm uses the same one.");
    public static final Key<Integer> WORKER_MAX_BATCH = define("FARM_WORKER_MAX_BATCH", "64", intIn(1, 4096),
            "Most samples in one forward pass of the continuous batch.");
    public static final Key<Integer> WORKER_MAX_ATTEMPTS = define("FARM_WORKER_MAX_ATTEMPTS", "3", intIn(1, 100),
            "Deliveries of a task before it is dead-lettered and its job failed.");
    public static final Key<Integer> WORKER_METRICS_PORT = define("FARM_WORKER_METRICS_PORT", "8081",
            intIn(0, 65535), "Port of a worker's GET /metrics (Prometheus) and GET /health; 0 picks a free port. Give "
                    + "each worker process on one machine its own.");
    public static final Key<Duration> WORKER_CHECKPOINT_INTERVAL = define("FARM_WORKER_CHECKPOINT_SECONDS", "30",
            secondsIn(1, 86_400), "Longest time between two resumable x_t checkpoints of a running task, besides those "
                    + "taken every checkpointEvery steps; a task redelivered after a crash resumes from the newest.");

    private final Map<String, String> raw;
    private final Map<Key<?>, Object> values;

    private FarmConfig(Map<String, String> raw, Map<Key<?>, Object> values) {
        this.raw = raw;
        this.values = values;
    }

    /** The configuration from the process environment. */
    public static FarmConfig fromEnvironment() {
        return from(System.getenv());
    }

    /**
     * The configuration from {@code settings} (variable name → value); unset keys take their defaults, names that
     * do not start with {@code FARM_} are ignored.
     *
     * @throws ConfigException listing every invalid or unknown {@code FARM_} setting
     */
    public static FarmConfig from(Map<String, ?> settings) {
        Map<String, String> raw = new LinkedHashMap<>();
        Map<Key<?>, Object> values = new HashMap<>();
        List<String> errors = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (Key<?> key : KEYS) {
            known.add(key.name());
            Object given = settings.get(key.name());
            String text = given == null ? key.defaultValue() : given.toString().trim();
            raw.put(key.name(), text);
            try {
                values.put(key, key.parse().apply(text));
            } catch (RuntimeException e) {
                errors.add(key.name() + ": " + e.getMessage());
            }
        }
        settings.keySet().stream().filter(n -> n.startsWith("FARM_") && !known.contains(n) && !EXTERNAL.contains(n))
                .sorted().forEach(n -> errors.add(n + ": unknown setting"));
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return new FarmConfig(Collections.unmodifiableMap(raw), values);
    }

    /** {@code FARM_} variables that belong to the scripts rather than to this class. */
    private static final Set<String> EXTERNAL = Set.of("FARM_JAVA_OPTS");

    /** The value of {@code key}. */
    public <T> T get(Key<T> key) {
        @SuppressWarnings("unchecked")
        T value = (T) values.get(key);
        return value;
    }

    /** This configuration with {@code key} set to {@code text} (e.g. a generated API key or a bound port). */
    public FarmConfig with(Key<?> key, String text) {
        Map<String, String> copy = new LinkedHashMap<>(raw);
        copy.put(key.name(), text);
        return from(copy);
    }

    /** Every setting as text (variable name → value, secrets included), e.g. for a verticle's config. */
    public Map<String, String> asMap() {
        return raw;
    }

    /** Every key, in the order of definition. */
    public static List<Key<?>> keys() {
        return Collections.unmodifiableList(KEYS);
    }

    /** The settings in effect, one per line, secrets masked. */
    @Override
    public String toString() {
        return KEYS.stream().map(k -> k.name() + "=" + (k.secret() && !raw.get(k.name()).isEmpty() ? "****"
                : raw.get(k.name()))).collect(Collectors.joining("\n"));
    }

    /** The documentation of every key: name, default and what it does. */
    public static String describe() {
        return KEYS.stream().map(k -> String.format("%-28s default %-24s %s", k.name(),
                k.defaultValue().isEmpty() ? "(empty)" : k.defaultValue(), k.doc()))
                .collect(Collectors.joining("\n"));
    }

    // ---- definitions and parsers ----------------------------------------------------------------------------------

    private static <T> Key<T> define(String name, String defaultValue, Function<String, T> parse, String doc) {
        Key<T> key = new Key<>(name, defaultValue, parse, doc, false);
        KEYS.add(key);
        return key;
    }

    private static <T> Key<T> defineSecret(String name, String defaultValue, Function<String, T> parse, String doc) {
        Key<T> key = new Key<>(name, defaultValue, parse, doc, true);
        KEYS.add(key);
        return key;
    }

    private static Function<String, String> nonBlank() {
        return s -> {
            if (s.isBlank()) {
                throw new IllegalArgumentException("must not be empty");
            }
            return s;
        };
    }

    private static boolean bool(String s) {
        return switch (s) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false, was '" + s + "'");
        };
    }

    private static Function<String, Integer> intIn(int min, int max) {
        return s -> {
            int v;
            try {
                v = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be an integer, was '" + s + "'");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max + ", was " + v);
            }
            return v;
        };
    }

    private static Function<String, Duration> secondsIn(int min, int max) {
        return intIn(min, max).andThen(Duration::ofSeconds);
    }

    private static Function<String, Duration> millisIn(int min, int max) {
        return intIn(min, max).andThen(Duration::ofMillis);
    }

    private static String hostPorts(String s) {
        for (String hp : s.split(",")) {
            int colon = hp.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("must be host:port[,host:port...], was '" + s + "'");
            }
            intIn(1, 65535).apply(hp.substring(colon + 1).trim());
        }
        return s;
    }

    private static URI httpUri(String s) {
        URI uri;
        try {
            uri = URI.create(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be a URL, was '" + s + "'");
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new IllegalArgumentException("must be an http(s) URL with a host, was '" + s + "'");
        }
        return uri;
    }

    private static String bucket(String s) {
        if (!s.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException("must be an S3 bucket name (3-63 of a-z 0-9 . -), was '" + s + "'");
        }
        return s;
    }

    private static String modelsPrefix(String s) {
        if (!s.isEmpty() && (!s.matches("([A-Za-z0-9][A-Za-z0-9._-]*/)+") || s.startsWith("tenants/"))) {
            throw new IllegalArgumentException("must be empty or a key prefix ending in / (segments of letters, digits, . _ -), "
                    + "outside tenants/, was '" + s + "'");
        }
        return s;
    }

    private static List<ApiKey> apiKeys(String s) {
        List<ApiKey> keys = new ArrayList<>();
        if (s.isEmpty()) {
            return keys;
        }
        Set<String> seen = new HashSet<>();
        for (String entry : s.split(",")) {
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("entries must be tenant:key");
            }
            ApiKey key = new ApiKey(entry.substring(0, colon).trim(), entry.substring(colon + 1).trim());
            if (!seen.add(key.key())) {
                throw new IllegalArgumentException("a key may belong to one tenant only (tenant " + key.tenant() + ")");
            }
            keys.add(key);
        }
        return List.copyOf(keys);
    }

    /**
     * One API key and its tenant. {@link #toString()} never shows the key.
     *
     * @param tenant the tenant ({@link Tenants#PATTERN})
     * @param key    the secret, at least {@link #MIN_LENGTH} characters of an HTTP token (RFC 9110 tchar): the web
     *               page sends it as the WebSocket subprotocol {@code bearer.<key>} (SPEC §4), and a browser refuses
     *               a subprotocol with any other character ({@code /}, {@code =}, …)
     */
    public record ApiKey(String tenant, String key) {
        public static final int MIN_LENGTH = 16;
        private static final String TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";

        public ApiKey {
            if (!Tenants.valid(tenant)) {
                throw new IllegalArgumentException("tenant must match " + Tenants.PATTERN + ", was '" + tenant + "'");
            }
            if (key == null || key.length() < MIN_LENGTH || !key.matches(TOKEN)) {
                throw new IllegalArgumentException("the key of tenant " + tenant + " must be at least " + MIN_LENGTH
                        + " characters of A-Z a-z 0-9 !#$%&'*+-.^_`|~ (browsers send it in the WebSocket "
                        + "subprotocol bearer.<key>, which allows no others)");
            }
        }

        @Override
        public String toString() {
            return "ApiKey[tenant=" + tenant + ", key=****]";
        }
    }

    /** Settings were invalid; {@link #errors()} lists every one. */
    public static final class ConfigException extends IllegalArgumentException {
        private final transient List<String> errors;

        ConfigException(List<String> errors) {
            super("invalid configuration: " + String.join("; ", errors));
            this.errors = List.copyOf(errors);
        }

        public List<String> errors() {
            return errors;
        }
    }
}

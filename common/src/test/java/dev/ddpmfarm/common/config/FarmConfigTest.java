package dev.ddpmfarm.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.config.FarmConfig.ApiKey;
import dev.ddpmfarm.common.config.FarmConfig.ConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FarmConfigTest {

    @Test
    @DisplayName("with nothing set, every key takes the default of SPEC §2")
    void defaults() {
        FarmConfig c = FarmConfig.from(Map.of());
        assertEquals(8080, c.get(FarmConfig.HTTP_PORT));
        assertEquals("farm", c.get(FarmConfig.S3_BUCKET));
        assertEquals("localhost:9092", c.get(FarmConfig.KAFKA_BOOTSTRAP));
        assertEquals(URI.create("http://localhost:9000"), c.get(FarmConfig.S3_ENDPOINT));
        assertEquals(Path.of("data"), c.get(FarmConfig.DATA_DIR));
        assertEquals(List.of(), c.get(FarmConfig.API_KEYS));
        assertEquals(Duration.ofSeconds(900), c.get(FarmConfig.URL_TTL));
        assertEquals(256, c.get(FarmConfig.SHARD_SIZE));
        assertEquals(64, c.get(FarmConfig.WORKER_MAX_BATCH));
        for (FarmConfig.Key<?> key : FarmConfig.keys()) {
            assertTrue(key.name().startsWith("FARM_") && !key.doc().isBlank(), key.name());
        }
    }

    @Test
    @DisplayName("settings from a map are parsed; other variables are ignored")
    void fromMap() {
        FarmConfig c = FarmConfig.from(Map.of("FARM_HTTP_PORT", "9090", "FARM_KAFKA_BOOTSTRAP", "k1:9092,k2:9093",
                "FARM_API_KEYS", "acme:acme-key-0123456789,globex:globex-key-0123456789", "PATH", "/usr/bin",
                "FARM_S3_ENDPOINT", "https://s3.example.com"));
        assertEquals(9090, c.get(FarmConfig.HTTP_PORT));
        assertEquals("k1:9092,k2:9093", c.get(FarmConfig.KAFKA_BOOTSTRAP));
        assertEquals(List.of(new ApiKey("acme", "acme-key-0123456789"), new ApiKey("globex", "globex-key-0123456789")),
                c.get(FarmConfig.API_KEYS));
        assertEquals(c.asMap(), FarmConfig.from(c.asMap()).asMap(), "asMap round-trips");
        assertEquals(9191, c.with(FarmConfig.HTTP_PORT, "9191").get(FarmConfig.HTTP_PORT));
    }

    @Test
    @DisplayName("every invalid or unknown setting is reported at once, named")
    void allErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of(
                "FARM_HTTP_PORT", "80000", "FARM_S3_BUCKET", "Bad_Bucket", "FARM_KAFKA_BOOTSTRAP", "nohost",
                "FARM_S3_ENDPOINT", "ftp://x", "FARM_WORKER_MAX_BATCH", "lots", "FARM_HTTP_PROT", "1")));
        assertEquals(List.of("FARM_KAFKA_BOOTSTRAP", "FARM_S3_ENDPOINT", "FARM_S3_BUCKET", "FARM_HTTP_PORT",
                "FARM_WORKER_MAX_BATCH", "FARM_HTTP_PROT"),
                e.errors().stream().map(m -> m.substring(0, m.indexOf(':'))).toList(), e::getMessage);
        // a body the broker would refuse as a record (1 MB by default) is refused at start, not with 503s later
        assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_MAX_BODY_BYTES", "2000000")));
    }

    @Test
    @DisplayName("API keys: tenant names are checked, keys are long enough, unique, and never printed")
    void apiKeys() {
        assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_API_KEYS", "acme:short")));
        assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_API_KEYS", "Bad Tenant:0123456789abcdef")));
        assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_API_KEYS", "nocolon")));
        assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_API_KEYS", "acme:base64/key+0123456=")),
                "'/' and '=' cannot go in a WebSocket subprotocol");
        assertEquals("k.e_y~0123456789!#$%&'*+^`|-", FarmConfig.from(Map.of("FARM_API_KEYS",
                "acme:k.e_y~0123456789!#$%&'*+^`|-")).get(FarmConfig.API_KEYS).get(0).key());
        ConfigException dup = assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_API_KEYS",
                "a:0123456789abcdef,b:0123456789abcdef")));
        assertFalse(dup.getMessage().contains("0123456789abcdef"), "an error never shows a key");
        FarmConfig c = FarmConfig.from(Map.of("FARM_API_KEYS", "acme:secret-0123456789", "FARM_S3_SECRET_KEY", "s3pw"));
        assertFalse(c.toString().contains("secret-0123456789") || c.toString().contains("s3pw"), c.toString());
        assertFalse(c.get(FarmConfig.API_KEYS).toString().contains("secret-0123456789"));
        assertFalse(FarmConfig.describe().isBlank());
    }

    @Test
    @DisplayName("a models prefix is a key prefix ending in /, outside the tenants' jobs")
    void modelsPrefix() {
        assertEquals("", FarmConfig.from(Map.of()).get(FarmConfig.MODELS_PREFIX));
        assertEquals("shared/models/", FarmConfig.from(Map.of("FARM_MODELS_PREFIX", "shared/models/"))
                .get(FarmConfig.MODELS_PREFIX));
        for (String bad : new String[] {"models", "/models/", "a//b/", "../models/", "tenants/acme/"}) {
            assertThrows(ConfigException.class, () -> FarmConfig.from(Map.of("FARM_MODELS_PREFIX", bad)), bad);
        }
    }
}

package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import java.io.IOException;

/**
 * The one Jackson configuration of the wire format (HTTP bodies, Kafka values, stored JSON), strict on input so that
 * a mistake fails loudly with the field named instead of being ignored or coerced: unknown properties, unknown enum
 * values, enum ordinals, floats for integers, strings for numbers, duplicate keys and trailing tokens are errors.
 * Output omits nulls and writes instants as ISO-8601 strings.
 */
public final class Wire {

    private static final ObjectMapper MAPPER = newMapper();

    private Wire() {
    }

    /** The diffusion modes travel by their wire names ({@code ddim}, {@code posterior}). */
    private abstract static class WireNamed {
        @JsonValue
        abstract String wireName();
    }

    /** A new mapper with the wire settings, for callers that need their own instance (e.g. to add a module). */
    public static ObjectMapper newMapper() {
        return JsonMapper.builder()
                .addModule(new JavaTimeModule())
                .addMixIn(Sampler.class, WireNamed.class)
                .addMixIn(VarianceType.class, WireNamed.class)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(JsonParser.Feature.ALLOW_COMMENTS)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .build();
    }

    /** The shared mapper; thread-safe, do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Serializes {@code value} to UTF-8 JSON. */
    public static byte[] toBytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /** Serializes {@code value} to a JSON string. */
    public static String toJson(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Parses UTF-8 JSON into {@code type}.
     *
     * @throws IllegalArgumentException when the bytes are not valid JSON for {@code type}; the message names the field
     */
    public static <T> T fromBytes(byte[] json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new IllegalArgumentException(describe(e), e);
        }
    }

    /** Parses a JSON string into {@code type}; see {@link #fromBytes(byte[], Class)}. */
    public static <T> T fromJson(String json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new IllegalArgumentException(describe(e), e);
        }
    }

    /** A one-line description of a Jackson failure that names the field it happened at. */
    static String describe(IOException e) {
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m) {
            String path = FieldPath.of(m.getPath());
            Throwable cause = m.getCause();
            String message = cause instanceof ValidationException v ? v.getMessage() : m.getOriginalMessage();
            return path.isEmpty() ? message : path + ": " + message;
        }
        if (e instanceof JsonProcessingException p) {
            return p.getOriginalMessage();
        }
        return e.getMessage();
    }
}

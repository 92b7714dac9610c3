package dev.ddpmfarm.clients.kafka;

import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.common.wire.WireMessage;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka value deserializer of one wire record type. A value that is not valid JSON for the type (unknown field,
 * unknown enum, newer schema version, failed validation) fails with a {@link SerializationException} naming the
 * field; the consumer surfaces it as a {@code RecordDeserializationException} carrying the partition and offset, so
 * the caller can dead-letter the record and seek past it.
 */
public final class WireDeserializer<T extends WireMessage> implements Deserializer<T> {
    private final Class<T> type;

    public WireDeserializer(Class<T> type) {
        this.type = type;
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            return Wire.fromBytes(data, type);
        } catch (IllegalArgumentException e) {
            throw new SerializationException("invalid " + type.getSimpleName() + " on " + topic + ": "
                    + e.getMessage() + " (value starts " + preview(data) + ")", e);
        }
    }

    private static String preview(byte[] data) {
        String s = new String(data, 0, Math.min(data.length, 120), StandardCharsets.UTF_8);
        return s.replaceAll("\\p{Cntrl}", "?");
    }
}

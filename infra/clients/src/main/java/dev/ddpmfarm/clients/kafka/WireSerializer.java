package dev.ddpmfarm.clients.kafka;

import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.common.wire.WireMessage;
import org.apache.kafka.common.serialization.Serializer;

/** Kafka value serializer of every wire record: the JSON of {@link Wire}, with its {@code schemaVersion}. */
public final class WireSerializer implements Serializer<WireMessage> {

    @Override
    public byte[] serialize(String topic, WireMessage message) {
        return message == null ? null : Wire.toBytes(message);
    }
}

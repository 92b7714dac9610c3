package dev.ddpmfarm.worker.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors file format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header
 * mapping each tensor name to {@code {dtype, shape, data_offsets}} (plus an optional {@code __metadata__} map of
 * strings), then the raw little-endian data. Only F32 tensors are read and written.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    /** A tensor: row-major values and their shape. */
    public record Tensor(long[] shape, float[] values) {
        public Tensor {
            if (UNetParameters.numel(shape) != values.length) {
                throw new IllegalArgumentException("shape does not match " + values.length + " values");
            }
        }
    }

    private Safetensors() {
    }

    /** Writes the tensors (sorted by name) and metadata to {@code file}, atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(Map.of(file, tensors), metadata);
    }

    /**
     * Writes several files with the same metadata: each to a temporary name first, then all are moved into place, so
     * a process killed while writing leaves the previous files (only a kill between two moves leaves a mixed set).
     */
    public static void write(Map<Path, Map<String, Tensor>> files, Map<String, String> metadata) throws IOException {
        for (Map.Entry<Path, Map<String, Tensor>> file : files.entrySet()) {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(temporary(file.getKey())),
                    1 << 20)) {
                write(out, file.getValue(), metadata);
            }
        }
        for (Path file : files.keySet()) {
            Files.move(temporary(file), file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static Path temporary(Path file) {
        return file.resolveSibling(file.getFileName() + ".tmp");
    }

    /** The file's bytes: the tensors (sorted by name) and metadata, e.g. to store them as one object. */
    public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            write(out, tensors, metadata);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void write(OutputStream out, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            header.set("__metadata__", JSON.valueToTree(new TreeMap<>(metadata)));
        }
        Map<String, Tensor> sorted = new TreeMap<>(tensors);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            long bytes = 4L * e.getValue().values().length;
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", "F32");
            entry.set("shape", JSON.valueToTree(e.getValue().shape()));
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(len.array());
        out.write(json);
        out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
        for (Tensor t : sorted.values()) {
            ByteBuffer data = ByteBuffer.allocate(4 * t.values().length).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().put(t.values());
            out.write(data.array());
        }
    }

    /** The {@code __metadata__} map of {@code file}, if it has one. */
    public static java.util.Optional<Map<String, String>> metadata(Path file) throws IOException {
        try (java.io.DataInputStream in = new java.io.DataInputStream(Files.newInputStream(file))) {
            byte[] len = in.readNBytes(8);
            long headerLength = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len.length < 8 || headerLength < 2 || headerLength > MAX_HEADER) {
                throw new IOException(file + ": bad safetensors header length");
            }
            JsonNode meta = JSON.readTree(in.readNBytes((int) headerLength)).get("__metadata__");
            return meta == null ? java.util.Optional.empty()
                    : java.util.Optional.of(JSON.convertValue(meta, new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { }));
        }
    }

    /** The {@code __metadata__} map of a safetensors file's bytes (empty map when it has none). */
    public static Map<String, String> metadata(byte[] all, String file) throws IOException {
        JsonNode meta = header(all, file).get("__metadata__");
        return meta == null ? Map.of()
                : JSON.convertValue(meta, new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { });
    }

    private static JsonNode header(byte[] all, String file) throws IOException {
        if (all.length < 8) {
            throw new IOException(file + ": not a safetensors file (shorter than its header length)");
        }
        long headerLength = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > all.length) {
            throw new IOException(file + ": bad safetensors header length " + headerLength);
        }
        return JSON.readTree(new String(all, 8, (int) headerLength, StandardCharsets.UTF_8));
    }

    /** Reads every tensor of {@code file}, in file order; fails with a clear message on a malformed file. */
    public static Map<String, Tensor> read(Path file) throws IOException {
        return decode(Files.readAllBytes(file), file.toString());
    }

    /** Reads every tensor of a safetensors file's bytes; {@code file} names it in error messages. */
    public static Map<String, Tensor> decode(byte[] all, String file) throws IOException {
        JsonNode header = header(all, file);
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long dataStart = 8 + buf.getLong(0);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode entry = e.getValue();
            if (!"F32".equals(entry.path("dtype").asText())) {
                throw new IOException(file + ": tensor " + e.getKey() + " has dtype " + entry.path("dtype")
                        + ", only F32 is supported");
            }
            long[] shape = JSON.convertValue(entry.get("shape"), long[].class);
            long begin = entry.get("data_offsets").get(0).asLong();
            long end = entry.get("data_offsets").get(1).asLong();
            if (begin < 0 || end < begin || dataStart + end > all.length || end - begin != 4 * UNetParameters.numel(shape)) {
                throw new IOException(file + ": tensor " + e.getKey() + " has inconsistent offsets (truncated file?)");
            }
            float[] values = new float[(int) ((end - begin) / 4)];
            buf.slice((int) (dataStart + begin), (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer().get(values);
            tensors.put(e.getKey(), new Tensor(shape, values));
        }
        return tensors;
    }
}

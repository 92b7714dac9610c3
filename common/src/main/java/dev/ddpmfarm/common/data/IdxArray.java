package dev.ddpmfarm.common.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * An unsigned-byte array in LeCun's IDX format (the format of MNIST and Fashion-MNIST): a big-endian header — two
 * zero bytes, the element type {@code 0x08} (unsigned byte), the number of dimensions — then one big-endian int32
 * per dimension, then the elements in row-major order. Files may be gzipped; the reader recognises gzip by its
 * magic bytes and the writer gzips when the file name ends in {@code .gz}.
 *
 * @param shape the dimensions, e.g. {@code [N, H, W]} for images, {@code [N]} for labels
 * @param data  the elements, row-major
 */
public record IdxArray(int[] shape, byte[] data) {
    private static final int UNSIGNED_BYTE = 0x08;
    private static final int GZIP_MAGIC_1 = 0x1f;
    private static final int GZIP_MAGIC_2 = 0x8b;
    private static final int BUFFER = 1 << 16;

    public IdxArray {
        if (shape == null || shape.length < 1 || shape.length > 255) {
            throw new IllegalArgumentException("an IDX array has 1 to 255 dimensions");
        }
        shape = shape.clone();
        long count = count(shape);
        if (count < 0 || data == null || data.length != count) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + count + " elements, got "
                    + (data == null ? "none" : data.length));
        }
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Reads an IDX file, gzipped or not; a malformed file fails with {@link IdxFormatException} naming it. */
    public static IdxArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads an IDX stream, gzipped or not; {@code name} appears in error messages. */
    public static IdxArray read(InputStream raw, String name) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, BUFFER);
        buffered.mark(2);
        boolean gzipped = buffered.read() == GZIP_MAGIC_1 && buffered.read() == GZIP_MAGIC_2;
        buffered.reset();
        try {
            return parse(gzipped ? new GZIPInputStream(buffered, BUFFER) : buffered, name);
        } catch (ZipException | EOFException e) {
            throw new IdxFormatException(name + ": corrupt or truncated gzip stream (" + e.getMessage() + ")", e);
        }
    }

    /** Writes the array to {@code file}, gzipped when its name ends in {@code .gz}. */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            write(out, file.getFileName().toString().endsWith(".gz"));
        }
    }

    /** Writes the array to a stream, gzipped or plain; the stream is finished but not closed. */
    public void write(OutputStream target, boolean gzip) throws IOException {
        GZIPOutputStream zip = gzip ? new GZIPOutputStream(target, BUFFER) : null;
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(zip != null ? zip : target, BUFFER));
        out.writeShort(0);
        out.writeByte(UNSIGNED_BYTE);
        out.writeByte(shape.length);
        for (int d : shape) {
            out.writeInt(d);
        }
        out.write(data);
        out.flush();
        if (zip != null) {
            zip.finish();
        }
    }

    private static IdxArray parse(InputStream in, String name) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IdxFormatException(name + ": truncated IDX header (" + magic.length + " of 4 magic bytes)");
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IdxFormatException(String.format("%s: not an IDX file (magic %02x %02x %02x %02x, expected 00 00 08 nn)",
                    name, magic[0], magic[1], magic[2], magic[3]));
        }
        if (magic[2] != UNSIGNED_BYTE) {
            throw new IdxFormatException(String.format("%s: IDX element type 0x%02x is not supported, only unsigned"
                    + " bytes (0x08)", name, magic[2]));
        }
        int dims = magic[3] & 0xff;
        if (dims == 0) {
            throw new IdxFormatException(name + ": IDX header declares no dimensions");
        }
        byte[] header = in.readNBytes(4 * dims);
        if (header.length < 4 * dims) {
            throw new IdxFormatException(name + ": truncated IDX header (" + header.length + " of " + 4 * dims
                    + " bytes of dimensions)");
        }
        ByteBuffer sizes = ByteBuffer.wrap(header);
        int[] shape = new int[dims];
        for (int i = 0; i < dims; i++) {
            shape[i] = sizes.getInt();
        }
        long count = count(shape);
        if (count < 0 || count > Integer.MAX_VALUE - 8) {
            throw new IdxFormatException(name + ": unsupported IDX dimensions " + Arrays.toString(shape));
        }
        byte[] data = in.readNBytes((int) count);
        if (data.length < count) {
            throw new IdxFormatException(name + ": truncated IDX data, shape " + Arrays.toString(shape) + " needs "
                    + count + " bytes but the file holds " + data.length);
        }
        if (in.read() != -1) {
            throw new IdxFormatException(name + ": unexpected bytes after the IDX data of shape " + Arrays.toString(shape));
        }
        return new IdxArray(shape, data);
    }

    /** The element count of a shape, or -1 when a dimension is negative. */
    private static long count(int[] shape) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                return -1;
            }
            count *= d;
            if (count > Integer.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
        }
        return count;
    }
}

package dev.ddpmfarm.worker.output;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * NumPy's {@code .npy} format (version 1.0; 2.0 is read too) for C-ordered arrays of unsigned bytes ({@code |u1}:
 * images), little-endian float32 ({@code <f4}: x_t checkpoints) and, written only, int64 ({@code <i8}: labels). The header is padded so that the data starts at
 * a multiple of 64 bytes, as NumPy writes it.
 */
public final class Npy {
    public static final String MEDIA_TYPE = "application/octet-stream";

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** An unsigned-byte array. */
    public record Uint8Array(int[] shape, byte[] data) {
        public Uint8Array {
            shape = checkShape(shape, data.length);
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** The {@code .npy} file of this array. */
        public byte[] encode() {
            return Npy.encode("|u1", shape, data);
        }

        /** The images of an {@code [N, H, W]} or {@code [N, H, W, C]} array: the inverse of {@link Npy#images}. */
        public List<Uint8Image> images() {
            if (shape.length != 3 && shape.length != 4) {
                throw new IllegalArgumentException("images need the shape [N, H, W] or [N, H, W, C], not "
                        + Arrays.toString(shape));
            }
            int h = shape[1];
            int w = shape[2];
            int c = shape.length == 4 ? shape[3] : 1;
            int size = h * w * c;
            List<Uint8Image> images = new ArrayList<>(shape[0]);
            for (int i = 0; i < shape[0]; i++) {
                images.add(new Uint8Image(h, w, c, Arrays.copyOfRange(data, i * size, (i + 1) * size)));
            }
            return images;
        }
    }

    /** A float32 array. */
    public record Float32Array(int[] shape, float[] data) {
        public Float32Array {
            shape = checkShape(shape, data.length);
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** The {@code .npy} file of this array. */
        public byte[] encode() {
            ByteBuffer bytes = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(data);
            return Npy.encode("<f4", shape, bytes.array());
        }
    }

    private Npy() {
    }

    /** Images of one size as {@code [N, H, W]} for one channel, {@code [N, H, W, C]} otherwise (SPEC §6). */
    public static Uint8Array images(List<Uint8Image> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("need at least one image");
        }
        Uint8Image first = images.get(0);
        int size = first.pixels().length;
        byte[] data = new byte[images.size() * size];
        for (int i = 0; i < images.size(); i++) {
            Uint8Image image = images.get(i);
            if (image.height() != first.height() || image.width() != first.width()
                    || image.channels() != first.channels()) {
                throw new IllegalArgumentException("all images must have the shape of the first");
            }
            System.arraycopy(image.pixels(), 0, data, i * size, size);
        }
        int[] shape = first.channels() == 1 ? new int[] {images.size(), first.height(), first.width()}
                : new int[] {images.size(), first.height(), first.width(), first.channels()};
        return new Uint8Array(shape, data);
    }

    /** A one-dimensional little-endian int64 ({@code <i8}) file of {@code values}: labels. */
    public static byte[] int64(int[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            bytes.putLong(v);
        }
        return encode("<i8", new int[] {values.length}, bytes.array());
    }

    /** Reads a {@code |u1} array; any other type fails. */
    public static Uint8Array readUint8(byte[] file) throws IOException {
        Parsed p = parse(file, "|u1");
        return new Uint8Array(p.shape, Arrays.copyOfRange(file, p.offset, p.offset + p.count));
    }

    /** Reads a {@code <f4} array; any other type fails. */
    public static Float32Array readFloat32(byte[] file) throws IOException {
        Parsed p = parse(file, "<f4");
        float[] data = new float[p.count];
        ByteBuffer.wrap(file, p.offset, p.count * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        return new Float32Array(p.shape, data);
    }

    private static byte[] encode(String descr, int[] shape, byte[] data) {
        String dims = Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': ("
                + dims + (shape.length == 1 ? ",), }" : "), }"));
        int preamble = MAGIC.length + 2 + 2;
        while ((preamble + header.length() + 1) % ALIGN != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.allocate(preamble + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) h.length).put(h).put(data);
        return out.array();
    }

    private record Parsed(int[] shape, int count, int offset) {
    }

    private static Parsed parse(byte[] file, String expectedDescr) throws IOException {
        if (file.length < 10 || !Arrays.equals(Arrays.copyOf(file, MAGIC.length), MAGIC)) {
            throw new IOException("not a .npy file (bad magic)");
        }
        int major = file[6];
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength;
        int offset;
        if (major == 1) {
            headerLength = b.getShort(8) & 0xffff;
            offset = 10;
        } else if (major == 2 || major == 3) {
            headerLength = b.getInt(8);
            offset = 12;
        } else {
            throw new IOException("unsupported .npy version " + major);
        }
        if (headerLength < 0 || offset + headerLength > file.length) {
            throw new IOException("truncated .npy header");
        }
        String header = new String(file, offset, headerLength, StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, "descr");
        if (!descr.equals(expectedDescr)) {
            throw new IOException(".npy dtype is " + descr + ", expected " + expectedDescr);
        }
        if (group(FORTRAN, header, "fortran_order").equals("True")) {
            throw new IOException("Fortran-ordered .npy arrays are not supported");
        }
        int[] shape = Arrays.stream(group(SHAPE, header, "shape").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        int elementSize = expectedDescr.equals("|u1") ? 1 : Float.BYTES;
        int dataOffset = offset + headerLength;
        if (dataOffset + count * elementSize != file.length) {
            throw new IOException(".npy data of shape " + Arrays.toString(shape) + " needs " + count * elementSize
                    + " bytes, the file has " + (file.length - dataOffset));
        }
        return new Parsed(shape, (int) count, dataOffset);
    }

    private static String group(Pattern pattern, String header, String key) throws IOException {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new IOException(".npy header lacks '" + key + "': " + header.trim());
        }
        return m.group(1);
    }

    private static int[] checkShape(int[] shape, int length) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            count *= d;
        }
        if (count != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + count + " values, got "
                    + length);
        }
        return shape.clone();
    }
}

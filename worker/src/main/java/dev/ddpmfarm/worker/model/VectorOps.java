package dev.ddpmfarm.worker.model;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The {@link UNet} for inference in plain Java on the Vector API: the worker's forward pass. A pass through ND4J made
 * about 240 native calls of 0.1–0.2 ms each whatever the batch (oneDNN reorders the weights of every convolution on
 * every call), which was most of a batch-1 step; here no call leaves the JVM.
 *
 * <p>Activations are channels-last ({@link Act}), so a convolution is a product of the weights {@code [taps·in, out]}
 * with the input read in place: a tile of 4 output pixels × 3 vectors of output channels (4 vectors with AVX-512; 2
 * or 1 for what is left) is held in 12 (16) accumulators while every tap and input channel is broadcast into them, one
 * multiply-add per lane (130–190 GFLOP/s on one AVX-512 core in a microbenchmark). Every sum is formed in the same order
 * whatever the tile, the batch, the thread or the JIT's progress (lanes are added in order, never by
 * {@code reduceLanes}), so a sample's ε does not depend on its batch companions, bit for bit. The weights are copied,
 * in that layout and tile by tile, when the backend is made.
 */
final class VectorOps implements UNet.Ops<VectorOps.Act> {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Tiles of 4 vectors of outputs where the registers hold them (AVX-512: 1.2-1.45x the 2-vector tile), else 3. */
    private static final boolean WIDE = F.vectorBitSize() >= 512;
    /** Multiply-adds of one parallel task of a product: tens of µs, more than the fork-join hand-off costs. */
    private static final long TASK_MACS = 1 << 21;
    /** Elements of one parallel task of the element-wise and normalising passes. */
    private static final int TASK_ELEMENTS = 1 << 16;

    /**
     * Activations {@code [N, H, W, C]} in C order, each image framed by {@code pad} pixels of zeros (1 for images, so
     * that a 3×3 convolution reads its neighbours without bounds checks; 0 for vectors, {@code H = W = 1}).
     */
    record Act(int n, int h, int w, int c, int pad, float[] data) {
        static Act zeros(int n, int h, int w, int c, int pad) {
            return new Act(n, h, w, c, pad, new float[n * (h + 2 * pad) * (w + 2 * pad) * c]);
        }

        int rowStride() {
            return (w + 2 * pad) * c;
        }

        int plane() {
            return (h + 2 * pad) * rowStride();
        }

        /** Offset of channel 0 of pixel (y, x) of image i. */
        int at(int i, int y, int x) {
            return i * plane() + (y + pad) * rowStride() + (x + pad) * c;
        }

        Act like() {
            return zeros(n, h, w, c, pad);
        }
    }

    /**
     * A layer's weights {@code [rows = taps·in, outPadded]} and bias, out padded with zeros to whole vectors. The
     * weights are stored block by block: the outputs a tile computes ({@code blocks[i]} vectors) are one contiguous
     * {@code [rows, blocks[i]·L]} block, so a tile streams its weights in order instead of a part of every row.
     */
    private record Layer(float[] w, float[] b, int out, int outPadded, int rows, int[] blocks) {
        /** Offset of the weights of the block whose first output is {@code co}. */
        int base(int co) {
            return rows * co;
        }
    }

    private final Map<String, Layer> layers = new HashMap<>();
    private final Map<String, float[]> norms = new HashMap<>();

    VectorOps(Map<String, INDArray> params) {
        params.forEach((name, p) -> {
            String layer = name.substring(0, name.lastIndexOf('.'));
            float[] v = p.dup('c').data().asFloat();
            if (name.endsWith(".w")) {
                long out = p.size(p.rank() - 1);
                layers.put(layer, pack(v, params.get(layer + ".b").dup('c').data().asFloat(), (int) out));
            } else if (!name.endsWith(".b") || !params.containsKey(layer + ".w")) {
                norms.put(name, v);
            }
        });
    }

    private static Layer pack(float[] w, float[] b, int out) {
        int padded = (out + L - 1) / L * L;
        int rows = w.length / out;
        int[] blocks = blocks(padded / L);
        float[] pw = new float[rows * padded];
        int co = 0;
        for (int block : blocks) {
            int width = block * L;
            for (int r = 0; r < rows; r++) {
                System.arraycopy(w, r * out + co, pw, rows * co + r * width, Math.min(width, out - co));
            }
            co += width;
        }
        float[] pb = new float[padded];
        System.arraycopy(b, 0, pb, 0, out);
        return new Layer(pw, pb, out, padded, rows, blocks);
    }

    /** The tiles' widths in vectors: 4 where the registers hold them, else 3 and 2 (2 + 2 for 4), then 1. */
    private static int[] blocks(int vectors) {
        IntStream.Builder widths = IntStream.builder();
        for (int left = vectors; left > 0; ) {
            int v = WIDE ? (left >= 4 ? 4 : Math.min(left, 2)) : left >= 3 && left != 4 ? 3 : Math.min(left, 2);
            widths.add(v);
            left -= v;
        }
        return widths.build().toArray();
    }

    private Layer layer(String name) {
        Layer l = layers.get(name);
        if (l == null) {
            throw new IllegalArgumentException("missing parameter " + name + ".w");
        }
        return l;
    }

    private float[] norm(String name) {
        float[] v = norms.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing parameter " + name);
        }
        return v;
    }

    /** Images {@code [N, C, H, W]} (C order) as framed channels-last activations. */
    static Act images(float[] nchw, int n, int c, int h, int w) {
        Act a = Act.zeros(n, h, w, c, 1);
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        a.data[a.at(i, y, x) + ch] = nchw[((i * c + ch) * h + y) * w + x];
                    }
                }
            }
        }
        return a;
    }

    /** The inverse of {@link #images}: {@code [N, C, H, W]} in C order. */
    static float[] nchw(Act a) {
        float[] out = new float[a.n * a.c * a.h * a.w];
        for (int i = 0; i < a.n; i++) {
            for (int ch = 0; ch < a.c; ch++) {
                for (int y = 0; y < a.h; y++) {
                    for (int x = 0; x < a.w; x++) {
                        out[((i * a.c + ch) * a.h + y) * a.w + x] = a.data[a.at(i, y, x) + ch];
                    }
                }
            }
        }
        return out;
    }

    /** Rows {@code [N, C]} as activations of one pixel. */
    static Act vectors(float[] rows, int n, int c) {
        return new Act(n, 1, 1, c, 0, rows);
    }

    @Override
    public Act conv(Act x, String name, int in, int out, int kernel, int stride) {
        Layer layer = layer(name);
        check(x.c == in && layer.out == out && layer.rows == kernel * kernel * in, name);
        Act y = Act.zeros(x.n, x.h / stride, x.w / stride, out, 1);
        int[] taps = new int[kernel * kernel * in];
        for (int ky = 0; ky < kernel; ky++) {
            for (int kx = 0; kx < kernel; kx++) {
                for (int ci = 0; ci < in; ci++) {
                    taps[(ky * kernel + kx) * in + ci] = ky * x.rowStride() + kx * in + ci;
                }
            }
        }
        multiply(x, y, layer, taps, stride, x.pad - (kernel - 1) / 2);
        return y;
    }

    @Override
    public Act dense(Act x, String name, int in, int out) {
        Layer layer = layer(name);
        check(x.c == in && x.h == 1 && x.pad == 0 && layer.out == out && layer.rows == in, name);
        Act y = Act.zeros(x.n, 1, 1, out, 0);
        multiply(x, y, layer, IntStream.range(0, in).toArray(), 1, 0);
        return y;
    }

    /**
     * y(p) = b + Σ_k w_k · x[base(p) + taps_k] for every output pixel p, where base(p) is the input offset of the
     * pixel's first tap ({@code origin} framed pixels before it), in tiles of 4 pixels, in parallel tasks when large.
     */
    private static void multiply(Act x, Act y, Layer layer, int[] taps, int stride, int origin) {
        int pixels = y.n * y.h * y.w;
        long macsPerTile = 4L * taps.length * layer.outPadded;
        int tilesPerTask = (int) Math.max(1, TASK_MACS / macsPerTile);
        int tiles = (pixels + 3) / 4;
        int tasks = (tiles + tilesPerTask - 1) / tilesPerTask;
        parallel(tasks).forEach(task -> {
            int[] inBase = new int[4];
            int[] outBase = new int[4];
            int to = Math.min(pixels, (task + 1) * tilesPerTask * 4);
            int p = task * tilesPerTask * 4;
            for (; p + 4 <= to; p += 4) {
                for (int j = 0; j < 4; j++) {
                    locate(x, y, p + j, stride, origin, inBase, outBase, j);
                }
                int co = 0;
                for (int block : layer.blocks) {
                    switch (block) {
                        case 4 -> tile4x4(x.data, inBase, taps, layer, co, y.data, outBase, y.c);
                        case 3 -> tile4x3(x.data, inBase, taps, layer, co, y.data, outBase, y.c);
                        case 2 -> tile4x2(x.data, inBase, taps, layer, co, y.data, outBase, y.c);
                        default -> tile4x1(x.data, inBase, taps, layer, co, y.data, outBase, y.c);
                    }
                    co += block * L;
                }
            }
            for (; p < to; p++) {
                locate(x, y, p, stride, origin, inBase, outBase, 0);
                int co = 0;
                for (int block : layer.blocks) {
                    for (int v = 0; v < block; v++) {
                        pixel(x.data, inBase[0], taps, layer, co, block * L, v * L, y.data, outBase[0], y.c);
                    }
                    co += block * L;
                }
            }
        });
    }

    private static void locate(Act x, Act y, int p, int stride, int origin, int[] inBase, int[] outBase, int j) {
        int perImage = y.h * y.w;
        int i = p / perImage;
        int oy = (p % perImage) / y.w;
        int ox = p % y.w;
        inBase[j] = i * x.plane() + (oy * stride + origin) * x.rowStride() + (ox * stride + origin) * x.c;
        outBase[j] = y.at(i, oy, ox);
    }

    /** 16 accumulators: for 512-bit vectors (32 registers); with 256-bit ones (16 registers) they would spill. */
    private static void tile4x4(float[] in, int[] base, int[] taps, Layer layer, int co, float[] out, int[] outBase,
                                int channels) {
        float[] w = layer.w;
        int stride = 4 * L;
        int start = layer.base(co);
        int b0 = base[0];
        int b1 = base[1];
        int b2 = base[2];
        int b3 = base[3];
        FloatVector a0 = FloatVector.fromArray(F, layer.b, co);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = FloatVector.fromArray(F, layer.b, co + L);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector d0 = FloatVector.fromArray(F, layer.b, co + 2 * L);
        FloatVector d1 = d0;
        FloatVector d2 = d0;
        FloatVector d3 = d0;
        FloatVector e0 = FloatVector.fromArray(F, layer.b, co + 3 * L);
        FloatVector e1 = e0;
        FloatVector e2 = e0;
        FloatVector e3 = e0;
        for (int k = 0; k < taps.length; k++) {
            int t = taps[k];
            int row = start + k * stride;
            FloatVector w0 = FloatVector.fromArray(F, w, row);
            FloatVector w1 = FloatVector.fromArray(F, w, row + L);
            FloatVector w2 = FloatVector.fromArray(F, w, row + 2 * L);
            FloatVector w3 = FloatVector.fromArray(F, w, row + 3 * L);
            FloatVector x0 = FloatVector.broadcast(F, in[b0 + t]);
            FloatVector x1 = FloatVector.broadcast(F, in[b1 + t]);
            FloatVector x2 = FloatVector.broadcast(F, in[b2 + t]);
            FloatVector x3 = FloatVector.broadcast(F, in[b3 + t]);
            a0 = w0.fma(x0, a0);
            a1 = w0.fma(x1, a1);
            a2 = w0.fma(x2, a2);
            a3 = w0.fma(x3, a3);
            c0 = w1.fma(x0, c0);
            c1 = w1.fma(x1, c1);
            c2 = w1.fma(x2, c2);
            c3 = w1.fma(x3, c3);
            d0 = w2.fma(x0, d0);
            d1 = w2.fma(x1, d1);
            d2 = w2.fma(x2, d2);
            d3 = w2.fma(x3, d3);
            e0 = w3.fma(x0, e0);
            e1 = w3.fma(x1, e1);
            e2 = w3.fma(x2, e2);
            e3 = w3.fma(x3, e3);
        }
        store(a0, out, outBase[0] + co, channels - co);
        store(a1, out, outBase[1] + co, channels - co);
        store(a2, out, outBase[2] + co, channels - co);
        store(a3, out, outBase[3] + co, channels - co);
        store(c0, out, outBase[0] + co + L, channels - co - L);
        store(c1, out, outBase[1] + co + L, channels - co - L);
        store(c2, out, outBase[2] + co + L, channels - co - L);
        store(c3, out, outBase[3] + co + L, channels - co - L);
        store(d0, out, outBase[0] + co + 2 * L, channels - co - 2 * L);
        store(d1, out, outBase[1] + co + 2 * L, channels - co - 2 * L);
        store(d2, out, outBase[2] + co + 2 * L, channels - co - 2 * L);
        store(d3, out, outBase[3] + co + 2 * L, channels - co - 2 * L);
        store(e0, out, outBase[0] + co + 3 * L, channels - co - 3 * L);
        store(e1, out, outBase[1] + co + 3 * L, channels - co - 3 * L);
        store(e2, out, outBase[2] + co + 3 * L, channels - co - 3 * L);
        store(e3, out, outBase[3] + co + 3 * L, channels - co - 3 * L);
    }

    /** 12 accumulators: the widest tile for 256-bit vectors (16 registers), where 4 would spill. */
    private static void tile4x3(float[] in, int[] base, int[] taps, Layer layer, int co, float[] out, int[] outBase,
                                int channels) {
        float[] w = layer.w;
        int stride = 3 * L;
        int start = layer.base(co);
        int b0 = base[0];
        int b1 = base[1];
        int b2 = base[2];
        int b3 = base[3];
        FloatVector a0 = FloatVector.fromArray(F, layer.b, co);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = FloatVector.fromArray(F, layer.b, co + L);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector d0 = FloatVector.fromArray(F, layer.b, co + 2 * L);
        FloatVector d1 = d0;
        FloatVector d2 = d0;
        FloatVector d3 = d0;
        for (int k = 0; k < taps.length; k++) {
            int t = taps[k];
            int row = start + k * stride;
            FloatVector w0 = FloatVector.fromArray(F, w, row);
            FloatVector w1 = FloatVector.fromArray(F, w, row + L);
            FloatVector w2 = FloatVector.fromArray(F, w, row + 2 * L);
            FloatVector x0 = FloatVector.broadcast(F, in[b0 + t]);
            a0 = w0.fma(x0, a0);
            c0 = w1.fma(x0, c0);
            d0 = w2.fma(x0, d0);
            FloatVector x1 = FloatVector.broadcast(F, in[b1 + t]);
            a1 = w0.fma(x1, a1);
            c1 = w1.fma(x1, c1);
            d1 = w2.fma(x1, d1);
            FloatVector x2 = FloatVector.broadcast(F, in[b2 + t]);
            a2 = w0.fma(x2, a2);
            c2 = w1.fma(x2, c2);
            d2 = w2.fma(x2, d2);
            FloatVector x3 = FloatVector.broadcast(F, in[b3 + t]);
            a3 = w0.fma(x3, a3);
            c3 = w1.fma(x3, c3);
            d3 = w2.fma(x3, d3);
        }
        store(a0, out, outBase[0] + co, channels - co);
        store(a1, out, outBase[1] + co, channels - co);
        store(a2, out, outBase[2] + co, channels - co);
        store(a3, out, outBase[3] + co, channels - co);
        store(c0, out, outBase[0] + co + L, channels - co - L);
        store(c1, out, outBase[1] + co + L, channels - co - L);
        store(c2, out, outBase[2] + co + L, channels - co - L);
        store(c3, out, outBase[3] + co + L, channels - co - L);
        store(d0, out, outBase[0] + co + 2 * L, channels - co - 2 * L);
        store(d1, out, outBase[1] + co + 2 * L, channels - co - 2 * L);
        store(d2, out, outBase[2] + co + 2 * L, channels - co - 2 * L);
        store(d3, out, outBase[3] + co + 2 * L, channels - co - 2 * L);
    }

    private static void tile4x2(float[] in, int[] base, int[] taps, Layer layer, int co, float[] out, int[] outBase,
                                int channels) {
        float[] w = layer.w;
        int stride = 2 * L;
        int start = layer.base(co);
        int b0 = base[0];
        int b1 = base[1];
        int b2 = base[2];
        int b3 = base[3];
        FloatVector a0 = FloatVector.fromArray(F, layer.b, co);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = FloatVector.fromArray(F, layer.b, co + L);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        for (int k = 0; k < taps.length; k++) {
            int t = taps[k];
            FloatVector w0 = FloatVector.fromArray(F, w, start + k * stride);
            FloatVector w1 = FloatVector.fromArray(F, w, start + k * stride + L);
            FloatVector x0 = FloatVector.broadcast(F, in[b0 + t]);
            FloatVector x1 = FloatVector.broadcast(F, in[b1 + t]);
            FloatVector x2 = FloatVector.broadcast(F, in[b2 + t]);
            FloatVector x3 = FloatVector.broadcast(F, in[b3 + t]);
            a0 = w0.fma(x0, a0);
            a1 = w0.fma(x1, a1);
            a2 = w0.fma(x2, a2);
            a3 = w0.fma(x3, a3);
            c0 = w1.fma(x0, c0);
            c1 = w1.fma(x1, c1);
            c2 = w1.fma(x2, c2);
            c3 = w1.fma(x3, c3);
        }
        store(a0, out, outBase[0] + co, channels - co);
        store(a1, out, outBase[1] + co, channels - co);
        store(a2, out, outBase[2] + co, channels - co);
        store(a3, out, outBase[3] + co, channels - co);
        store(c0, out, outBase[0] + co + L, channels - co - L);
        store(c1, out, outBase[1] + co + L, channels - co - L);
        store(c2, out, outBase[2] + co + L, channels - co - L);
        store(c3, out, outBase[3] + co + L, channels - co - L);
    }

    private static void tile4x1(float[] in, int[] base, int[] taps, Layer layer, int co, float[] out, int[] outBase,
                                int channels) {
        float[] w = layer.w;
        int stride = L;
        int start = layer.base(co);
        int b0 = base[0];
        int b1 = base[1];
        int b2 = base[2];
        int b3 = base[3];
        FloatVector a0 = FloatVector.fromArray(F, layer.b, co);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int k = 0; k < taps.length; k++) {
            int t = taps[k];
            FloatVector w0 = FloatVector.fromArray(F, w, start + k * stride);
            a0 = w0.fma(FloatVector.broadcast(F, in[b0 + t]), a0);
            a1 = w0.fma(FloatVector.broadcast(F, in[b1 + t]), a1);
            a2 = w0.fma(FloatVector.broadcast(F, in[b2 + t]), a2);
            a3 = w0.fma(FloatVector.broadcast(F, in[b3 + t]), a3);
        }
        store(a0, out, outBase[0] + co, channels - co);
        store(a1, out, outBase[1] + co, channels - co);
        store(a2, out, outBase[2] + co, channels - co);
        store(a3, out, outBase[3] + co, channels - co);
    }

    /** One output pixel's vector {@code co + lane} of the block starting at {@code co}, {@code width} floats wide. */
    private static void pixel(float[] in, int base, int[] taps, Layer layer, int co, int width, int lane, float[] out,
                              int outBase, int channels) {
        float[] w = layer.w;
        int start = layer.base(co) + lane;
        FloatVector a = FloatVector.fromArray(F, layer.b, co + lane);
        for (int k = 0; k < taps.length; k++) {
            a = FloatVector.fromArray(F, w, start + k * width).fma(FloatVector.broadcast(F, in[base + taps[k]]), a);
        }
        store(a, out, outBase + co + lane, channels - co - lane);
    }

    /**
     * Stores the first {@code count} lanes (all of them when count ≥ L); a part through a copy, as masked stores are
     * not compiled to vector instructions on every CPU.
     */
    private static void store(FloatVector v, float[] out, int offset, int count) {
        if (count >= L) {
            v.intoArray(out, offset);
        } else {
            float[] lanes = v.toArray();
            System.arraycopy(lanes, 0, out, offset, count);
        }
    }

    @Override
    public Act groupNorm(Act x, String name, int groups, int channels, int res) {
        check(x.c == channels && x.h == res, name);
        return normalize(x, null, name, groups, false);
    }

    @Override
    public Act groupNormSilu(Act x, String name, int groups, int channels, int res) {
        check(x.c == channels && x.h == res, name);
        return normalize(x, null, name, groups, true);
    }

    @Override
    public Act addGroupNormSilu(Act x, Act v, String name, int groups, int channels, int res) {
        check(x.c == channels && x.h == res && v.c == x.c && v.n == x.n, name);
        return normalize(x, v.data, name, groups, true);
    }

    /**
     * GroupNorm of x + shift (shift {@code [N, C]} per channel, or null), then SiLU when asked: per image, per-channel
     * sums of the interior, the group means, per-channel squared deviations from them (a two-pass variance), then
     * y = x·a_c + b_c with a_c = γ_c/σ_g and b_c = β_c − μ_g·a_c. Whole vectors of channels go through vector lanes,
     * channels past the last whole vector one by one (the same channels take the same path in every call).
     */
    private Act normalize(Act x, float[] shift, String name, int groups, boolean silu) {
        float[] gamma = norm(name + ".g");
        float[] beta = norm(name + ".b");
        int c = x.c;
        int cpg = c / groups;
        int count = cpg * x.h * x.w;
        Act y = x.like();
        float[] ones = ones(c);
        forEachImage(x, i -> {
            float[] src = x.data;
            if (shift != null) {
                affine(x, i, x.data, ones, shift, i * c, y.data, false);
                src = y.data;
            }
            float[] mean = groupMeans(channelSums(x, i, src, null), groups, count);
            float[] deviations = groupMeans(channelSums(x, i, src, mean), groups, count);
            float[] a = new float[c];
            float[] b = new float[c];
            for (int ch = 0; ch < c; ch++) {
                a[ch] = (float) (1.0 / Math.sqrt(deviations[ch] + SameDiffOps.GROUP_NORM_EPS)) * gamma[ch];
                b[ch] = beta[ch] - mean[ch] * a[ch];
            }
            affine(x, i, src, a, b, 0, y.data, silu);
        });
        return y;
    }

    private static float[] ones(int c) {
        float[] v = new float[c];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    /** Per channel, the mean of its group's values in {@code sums} (sums per channel of {@code count} per group). */
    private static float[] groupMeans(float[] sums, int groups, int count) {
        int cpg = sums.length / groups;
        float[] mean = new float[sums.length];
        for (int g = 0; g < groups; g++) {
            float total = 0;
            for (int j = 0; j < cpg; j++) {
                total += sums[g * cpg + j];
            }
            java.util.Arrays.fill(mean, g * cpg, (g + 1) * cpg, total / count);
        }
        return mean;
    }

    /** Σ over the interior pixels of image i of v (or of (v − mean)² when mean is given), per channel. */
    private static float[] channelSums(Act x, int i, float[] v, float[] mean) {
        int whole = x.c / L * L;
        float[] sum = new float[x.c];
        for (int y = 0; y < x.h; y++) {
            for (int px = 0; px < x.w; px++) {
                int o = x.at(i, y, px);
                for (int ch = 0; ch < whole; ch += L) {
                    FloatVector e = FloatVector.fromArray(F, v, o + ch);
                    if (mean != null) {
                        e = e.sub(FloatVector.fromArray(F, mean, ch));
                        e = e.mul(e);
                    }
                    FloatVector.fromArray(F, sum, ch).add(e).intoArray(sum, ch);
                }
                for (int ch = whole; ch < x.c; ch++) {
                    float e = mean == null ? v[o + ch] : (v[o + ch] - mean[ch]) * (v[o + ch] - mean[ch]);
                    sum[ch] += e;
                }
            }
        }
        return sum;
    }

    /**
     * out = v·a_c + b_c (b read from {@code b[bOffset + c]}), then SiLU when asked, over the interior of image i; no
     * fused multiply-add.
     */
    private static void affine(Act x, int i, float[] v, float[] a, float[] b, int bOffset, float[] out, boolean silu) {
        int whole = x.c / L * L;
        for (int y = 0; y < x.h; y++) {
            for (int px = 0; px < x.w; px++) {
                int o = x.at(i, y, px);
                for (int ch = 0; ch < whole; ch += L) {
                    FloatVector r = FloatVector.fromArray(F, v, o + ch).mul(FloatVector.fromArray(F, a, ch))
                            .add(FloatVector.fromArray(F, b, bOffset + ch));
                    (silu ? Kernels.silu(r) : r).intoArray(out, o + ch);
                }
                for (int ch = whole; ch < x.c; ch++) {
                    float r = v[o + ch] * a[ch] + b[bOffset + ch];
                    out[o + ch] = silu ? Kernels.silu(FloatVector.broadcast(F, r)).lane(0) : r;
                }
            }
        }
    }

    @Override
    public Act silu(Act x) {
        Act y = new Act(x.n, x.h, x.w, x.c, x.pad, x.data.clone());
        int length = y.data.length;
        parallel((length + TASK_ELEMENTS - 1) / TASK_ELEMENTS).forEach(task ->
                Kernels.silu(y.data, task * TASK_ELEMENTS, Math.min(length, (task + 1) * TASK_ELEMENTS)));
        return y;
    }

    @Override
    public Act add(Act a, Act b) {
        check(a.data.length == b.data.length && a.c == b.c && a.pad == b.pad, "add");
        Act y = a.like();
        int length = y.data.length;
        parallel((length + TASK_ELEMENTS - 1) / TASK_ELEMENTS).forEach(task -> {
            int to = Math.min(length, (task + 1) * TASK_ELEMENTS);
            int e = task * TASK_ELEMENTS;
            for (int bound = e + F.loopBound(to - e); e < bound; e += L) {
                FloatVector.fromArray(F, a.data, e).add(FloatVector.fromArray(F, b.data, e)).intoArray(y.data, e);
            }
            for (; e < to; e++) {
                y.data[e] = a.data[e] + b.data[e];
            }
        });
        return y;
    }

    @Override
    public Act addPerChannel(Act x, Act v, int channels) {
        check(x.c == channels && v.c == channels && v.n == x.n, "addPerChannel");
        Act y = x.like();
        float[] ones = ones(x.c);
        forEachImage(x, i -> affine(x, i, x.data, ones, v.data, i * x.c, y.data, false));
        return y;
    }

    @Override
    public Act concatChannels(Act a, Act b) {
        check(a.n == b.n && a.h == b.h && a.pad == b.pad, "concat");
        Act y = Act.zeros(a.n, a.h, a.w, a.c + b.c, a.pad);
        int pixels = y.data.length / y.c;
        for (int p = 0; p < pixels; p++) {
            System.arraycopy(a.data, p * a.c, y.data, p * y.c, a.c);
            System.arraycopy(b.data, p * b.c, y.data, p * y.c + a.c, b.c);
        }
        return y;
    }

    @Override
    public Act upsample(Act x) {
        Act y = Act.zeros(x.n, 2 * x.h, 2 * x.w, x.c, x.pad);
        for (int i = 0; i < x.n; i++) {
            for (int oy = 0; oy < y.h; oy++) {
                for (int ox = 0; ox < y.w; ox++) {
                    System.arraycopy(x.data, x.at(i, oy / 2, ox / 2), y.data, y.at(i, oy, ox), x.c);
                }
            }
        }
        return y;
    }

    /** Per image: scores q_i·k_j/√C over the positions, a softmax over j, and Σ_j weight_ij v_j. */
    @Override
    public Act attend(Act q, Act k, Act v, int channels, int res) {
        Act y = v.like();
        int positions = res * res;
        float scale = (float) (1.0 / Math.sqrt(channels));
        forEachImage(q, i -> {
            float[] weights = new float[(positions + L - 1) / L * L];
            for (int p = 0; p < positions; p++) {
                int qo = q.at(i, p / res, p % res);
                for (int j = 0; j < positions; j++) {
                    weights[j] = dot(q.data, qo, k.data, k.at(i, j / res, j % res), channels) * scale;
                }
                softmax(weights, positions);
                int yo = y.at(i, p / res, p % res);
                for (int j = 0; j < positions; j++) {
                    int vo = v.at(i, j / res, j % res);
                    axpy(weights[j], v.data, vo, y.data, yo, channels);
                }
            }
        });
        return y;
    }

    /** y[yo …] += a·x[xo …] over {@code length} values. */
    private static void axpy(float a, float[] x, int xo, float[] y, int yo, int length) {
        FloatVector av = FloatVector.broadcast(F, a);
        int e = 0;
        for (int bound = F.loopBound(length); e < bound; e += L) {
            FloatVector.fromArray(F, x, xo + e).fma(av, FloatVector.fromArray(F, y, yo + e)).intoArray(y, yo + e);
        }
        for (; e < length; e++) {
            y[yo + e] += a * x[xo + e];
        }
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int length) {
        FloatVector acc = FloatVector.zero(F);
        int e = 0;
        for (int bound = F.loopBound(length); e < bound; e += L) {
            acc = FloatVector.fromArray(F, a, ao + e).fma(FloatVector.fromArray(F, b, bo + e), acc);
        }
        float total = Kernels.sumLanes(acc);
        for (; e < length; e++) {
            total += a[ao + e] * b[bo + e];
        }
        return total;
    }

    /** Softmax of the first {@code count} values in place (the array holds whole vectors). */
    private static void softmax(float[] s, int count) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < count; j++) {
            max = Math.max(max, s[j]);
        }
        for (int e = 0; e < s.length; e += L) {
            Kernels.exp(FloatVector.fromArray(F, s, e).sub(max)).intoArray(s, e);
        }
        float total = 0;
        for (int j = 0; j < count; j++) {
            total += s[j];
        }
        for (int j = 0; j < count; j++) {
            s[j] /= total;
        }
    }

    private static void forEachImage(Act x, java.util.function.IntConsumer body) {
        parallel(x.n, (long) x.plane()).forEach(body);
    }

    private static IntStream parallel(int tasks) {
        IntStream indices = IntStream.range(0, tasks);
        return tasks > 1 ? indices.parallel() : indices;
    }

    private static IntStream parallel(int images, long sizeEach) {
        IntStream indices = IntStream.range(0, images);
        return images > 1 && images * sizeEach >= TASK_ELEMENTS ? indices.parallel() : indices;
    }

    private static void check(boolean ok, String where) {
        if (!ok) {
            throw new IllegalArgumentException(where + ": activation shape does not fit");
        }
    }
}

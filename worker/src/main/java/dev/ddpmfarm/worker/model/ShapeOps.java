package dev.ddpmfarm.worker.model;

import java.util.LinkedHashMap;
import java.util.Map;

/** A {@link UNet.Ops} backend that computes no values: it follows activation shapes (without the batch axis),
 *  records the shape of every parameter, in first-use order, and counts the floating-point operations of the matrix
 *  products (convolutions, dense layers, attention; 2 per multiply-add) of one image. */
final class ShapeOps implements UNet.Ops<long[]> {
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    long flops;

    @Override
    public long[] conv(long[] x, String name, int in, int out, int kernel, int stride) {
        check(x[0] == in, name, "input channels " + x[0] + " != " + in);
        shapes.put(name + ".w", new long[] {kernel, kernel, in, out});
        shapes.put(name + ".b", new long[] {out});
        long[] y = {out, x[1] / stride, x[2] / stride};
        flops += 2L * out * y[1] * y[2] * kernel * kernel * in;
        return y;
    }

    @Override
    public long[] groupNorm(long[] x, String name, int groups, int channels, int res) {
        check(x[0] == channels && x[1] == res, name, "shape mismatch");
        shapes.put(name + ".g", new long[] {channels});
        shapes.put(name + ".b", new long[] {channels});
        return x;
    }

    @Override
    public long[] silu(long[] x) {
        return x;
    }

    @Override
    public long[] dense(long[] x, String name, int in, int out) {
        check(x[0] == in, name, "input width " + x[0] + " != " + in);
        shapes.put(name + ".w", new long[] {in, out});
        shapes.put(name + ".b", new long[] {out});
        flops += 2L * in * out;
        return new long[] {out};
    }

    @Override
    public long[] add(long[] a, long[] b) {
        check(java.util.Arrays.equals(a, b), "add", "shapes differ");
        return a;
    }

    @Override
    public long[] addPerChannel(long[] x, long[] v, int channels) {
        check(x[0] == channels && v[0] == channels, "addPerChannel", "channels differ");
        return x;
    }

    @Override
    public long[] concatChannels(long[] a, long[] b) {
        return new long[] {a[0] + b[0], a[1], a[2]};
    }

    @Override
    public long[] upsample(long[] x) {
        return new long[] {x[0], x[1] * 2, x[2] * 2};
    }

    @Override
    public long[] attend(long[] q, long[] k, long[] v, int channels, int res) {
        long positions = (long) res * res;
        flops += 2 * 2 * positions * positions * channels; // qᵀk and v·softmax
        return v;
    }

    private static void check(boolean ok, String where, String message) {
        if (!ok) {
            throw new IllegalStateException(where + ": " + message);
        }
    }
}

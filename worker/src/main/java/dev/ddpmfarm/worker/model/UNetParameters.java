package dev.ddpmfarm.worker.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The parameter table of a {@link UNet}: every named tensor with its shape, found by walking the network with a
 * backend that only tracks shapes, and the initial values (PyTorch's default uniform ±1/√fan_in; GroupNorm gain 1 and bias 0; with the last
 * convolution of every residual branch, of every attention block and of the output set to zero as in DDPM's
 * reference implementation, so the untrained network starts as an identity-plus-small-noise map).
 */
public final class UNetParameters {
    private UNetParameters() {
    }

    /** Name → shape, in the order the network first uses them. */
    public static Map<String, long[]> shapes(UNetConfig cfg) {
        return Collections.unmodifiableMap(walk(cfg).shapes);
    }

    /** Floating-point operations of one image's forward pass in its matrix products (2 per multiply-add). */
    public static long flopsPerImage(UNetConfig cfg) {
        return walk(cfg).flops;
    }

    private static ShapeOps walk(UNetConfig cfg) {
        ShapeOps ops = new ShapeOps();
        int c = cfg.imageChannels();
        int s = cfg.imageSize();
        UNet.epsilon(cfg, ops, new long[] {c, s, s}, new long[] {cfg.baseChannels()},
                new long[] {cfg.numClasses() + 1});
        return ops;
    }

    public static long count(UNetConfig cfg) {
        long n = 0;
        for (long[] shape : shapes(cfg).values()) {
            n += numel(shape);
        }
        return n;
    }

    /** Initial values as flat row-major arrays, deterministic in {@code seed}. */
    public static Map<String, float[]> initial(UNetConfig cfg, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        shapes(cfg).forEach((name, shape) -> {
            float[] v = new float[(int) numel(shape)];
            String layer = name.substring(0, name.lastIndexOf('.'));
            if (name.endsWith(".g")) {
                java.util.Arrays.fill(v, 1f);
            } else if (!zeroInit(name) && !values.containsKey(layer + ".g")) {
                long fanIn = shape.length == 4 ? shape[0] * shape[1] * shape[2] : shape.length == 2 ? shape[0] : 0;
                if (fanIn == 0) {
                    // a bias [out]: PyTorch draws it with the bound of its layer's weight, fan_in = |w| / out
                    fanIn = values.get(layer + ".w").length / v.length;
                }
                double bound = 1.0 / Math.sqrt(fanIn);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
            }
            values.put(name, v);
        });
        return values;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static boolean zeroInit(String name) {
        return name.endsWith(".conv2.w") || name.endsWith(".conv2.b") || name.endsWith(".proj.w")
                || name.endsWith(".proj.b") || name.startsWith("conv_out.");
    }
}

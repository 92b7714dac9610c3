package dev.ddpmfarm.worker.model;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GroupNorm, SiLU and dense layers of the training pass ({@link TapeOps}), forward and backward, in as few passes over
 * memory as they allow, on the Vector API (jdk.incubator.vector: SIMD lanes, with an exp of our own, {@link #exp}, which
 * {@link VectorOps} uses too). Composed from ND4J ops GroupNorm cost several full passes and dominated training (the
 * broadcast multiplies' backward alone took 47% of a SameDiff training step, PLATFORM-NOTES); here it is one parallel
 * task per (sample, group) on a local copy of the group. libnd4j's swish took 4.4 ns per element at
 * batch 64, as long as GroupNorm; the vector SiLU takes 1.4 ns on one core. Each (sample, group) or chunk is computed
 * the same way whatever the batch, so a sample's values do not depend on its batch companions. Arrays are
 * {@code [N, C, H, W]} in C order.
 */
final class Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Elements per parallel task of the element-wise kernels. */
    private static final int CHUNK = 1 << 14;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2²³: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

    private Kernels() {
    }

    /** Per (sample, group) mean and 1/σ of a GroupNorm forward pass, kept for its backward pass. */
    record GroupStats(float[] mean, float[] rstd) {
    }

    static INDArray contiguous(INDArray x) {
        return x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
    }

    static FloatBuffer floats(INDArray x) {
        return x.data().asNioFloat();
    }

    /** y = (x − μ_g)/√(σ²_g + ε)·γ_c + β_c; fills {@code stats} if not null. */
    static INDArray groupNorm(INDArray input, float[] gamma, float[] beta, int groups, double eps, GroupStats stats) {
        INDArray x = contiguous(input);
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        int plane = (int) (x.length() / n / c);
        int cpg = c / groups;
        int perGroup = cpg * plane;
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        FloatBuffer in = floats(x);
        FloatBuffer out = floats(y);
        parallel(n * groups, perGroup).forEach(ng -> {
            float[] v = new float[perGroup];
            in.get(ng * perGroup, v);
            int firstChannel = (ng % groups) * cpg;
            float mean = sum(v, 0, perGroup) / perGroup;
            float rstd = (float) (1.0 / Math.sqrt(squaredDeviations(v, mean) / perGroup + eps));
            for (int j = 0; j < cpg; j++) {
                float a = rstd * gamma[firstChannel + j];
                affine(v, j * plane, (j + 1) * plane, a, beta[firstChannel + j] - mean * a);
            }
            out.put(ng * perGroup, v);
            if (stats != null) {
                stats.mean()[ng] = mean;
                stats.rstd()[ng] = rstd;
            }
        });
        return y;
    }

    /**
     * Indices {@code [0, count)} of tasks of {@code size} elements each, in parallel when there is enough work to pay
     * for the fork-join hand-off (at batch 1 the hand-off cost more than the work itself).
     */
    private static IntStream parallel(int count, long size) {
        IntStream indices = IntStream.range(0, count);
        return count * size >= 1 << 16 ? indices.parallel() : indices;
    }

    private static float sum(float[] v, int from, int to) {
        FloatVector acc = FloatVector.zero(F);
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            acc = acc.add(FloatVector.fromArray(F, v, i));
        }
        float total = sumLanes(acc);
        for (; i < to; i++) {
            total += v[i];
        }
        return total;
    }

    /** Σ(v − mean)², the second pass of a two-pass variance (one pass of Σv² loses digits when |mean| ≫ σ). */
    private static float squaredDeviations(float[] v, float mean) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(v.length); i < bound; i += F.length()) {
            FloatVector d = FloatVector.fromArray(F, v, i).sub(mean);
            acc = acc.add(d.mul(d));
        }
        float total = sumLanes(acc);
        for (; i < v.length; i++) {
            float d = v[i] - mean;
            total += d * d;
        }
        return total;
    }

    /** v[i] = v[i]·a + b on {@code [from, to)}; no fused multiply-add, so vector and tail lanes round alike. */
    private static void affine(float[] v, int from, int to, float a, float b) {
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector.fromArray(F, v, i).mul(a).add(b).intoArray(v, i);
        }
        for (; i < to; i++) {
            v[i] = v[i] * a + b;
        }
    }

    /**
     * e^y, to 2 ulp, from additions, multiplications and bit shifts only (Cephes' expf: y = n·ln 2 + f with
     * |f| ≤ ln 2 / 2, a degree-6 polynomial for e^f, 2^n built in the exponent bits). The Vector API's own EXP is a
     * Java fallback until the JIT compiles it to the JDK's SVML routine, and the two may round differently, so a
     * sample's values would depend on how warm the worker was (the trainer's resume test caught it); these
     * operations round the same in both.
     */
    static FloatVector exp(FloatVector y) {
        FloatVector z = y.max(-87.3f).min(88f);
        FloatVector rounded = z.mul(LOG2E).add(ROUND);
        FloatVector n = rounded.sub(ROUND);
        FloatVector f = z.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
        FloatVector p = f.mul(1.9875691500e-4f).add(1.3981999507e-3f).mul(f).add(8.3334519073e-3f).mul(f)
                .add(4.1665795894e-2f).mul(f).add(1.6666665459e-1f).mul(f).add(5.0000001201e-1f).mul(f.mul(f))
                .add(f).add(1f);
        IntVector twoToN = ((IntVector) rounded.reinterpretAsInts()).sub(ROUND_BITS - 127)
                .lanewise(VectorOperators.LSHL, 23);
        return p.mul(twoToN.reinterpretAsFloats());
    }

    /**
     * x[i] ← x[i]·σ(x[i]) on {@code [from, to)}. The tail goes through a masked vector, so that every element uses the
     * same exp; masks only there, as masked loads and stores are not compiled to single instructions on AVX2.
     */
    static void silu(float[] x, int from, int to) {
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            silu(FloatVector.fromArray(F, x, i)).intoArray(x, i);
        }
        if (i < to) {
            VectorMask<Float> m = F.indexInRange(i, to);
            silu(FloatVector.fromArray(F, x, i, m)).intoArray(x, i, m);
        }
    }

    static FloatVector silu(FloatVector v) {
        return v.div(exp(v.neg()).add(1f));
    }

    /** dy[i] ← dy[i]·σ(x)(1 + x(1 − σ(x))), the gradient of SiLU, on {@code [from, to)}; masks as in {@link #silu}. */
    private static void siluBackward(float[] x, float[] dy, int from, int to) {
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            FloatVector.fromArray(F, dy, i).mul(siluSlope(FloatVector.fromArray(F, x, i))).intoArray(dy, i);
        }
        if (i < to) {
            VectorMask<Float> m = F.indexInRange(i, to);
            FloatVector.fromArray(F, dy, i, m).mul(siluSlope(FloatVector.fromArray(F, x, i, m))).intoArray(dy, i, m);
        }
    }

    private static FloatVector siluSlope(FloatVector v) {
        FloatVector sig = FloatVector.broadcast(F, 1f).div(exp(v.neg()).add(1f));
        return sig.mul(v.mul(sig.neg().add(1f)).add(1f));
    }

    /**
     * The gradients of {@link #groupNorm} (without SiLU): returns dx, and adds dγ and dβ into {@code gradGamma},
     * {@code gradBeta}.
     */
    static INDArray groupNormBackward(INDArray input, INDArray gradOut, float[] gamma, int groups, GroupStats stats,
                                      float[] gradGamma, float[] gradBeta) {
        INDArray x = contiguous(input);
        INDArray dy = contiguous(gradOut);
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        int plane = (int) (x.length() / n / c);
        int cpg = c / groups;
        int perGroup = cpg * plane;
        INDArray dx = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        FloatBuffer in = floats(x);
        FloatBuffer gy = floats(dy);
        FloatBuffer gx = floats(dx);
        float[][] partialGamma = new float[n * groups][cpg];
        float[][] partialBeta = new float[n * groups][cpg];
        parallel(n * groups, perGroup).forEach(ng -> {
            float[] xhat = new float[perGroup];
            float[] g = new float[perGroup];
            in.get(ng * perGroup, xhat);
            gy.get(ng * perGroup, g);
            int firstChannel = (ng % groups) * cpg;
            float mean = stats.mean()[ng];
            float rstd = stats.rstd()[ng];
            int i0 = 0;
            for (int bound = F.loopBound(perGroup); i0 < bound; i0 += F.length()) {
                FloatVector.fromArray(F, xhat, i0).sub(mean).mul(rstd).intoArray(xhat, i0);
            }
            for (; i0 < perGroup; i0++) {
                xhat[i0] = (xhat[i0] - mean) * rstd;
            }
            double sumDxhat = 0;
            double sumDxhatXhat = 0;
            for (int j = 0; j < cpg; j++) {
                float dGamma = dot(g, xhat, j * plane, (j + 1) * plane);
                float dBeta = sum(g, j * plane, (j + 1) * plane);
                partialGamma[ng][j] = dGamma;
                partialBeta[ng][j] = dBeta;
                sumDxhat += gamma[firstChannel + j] * dBeta;
                sumDxhatXhat += gamma[firstChannel + j] * dGamma;
            }
            float b = rstd * (float) (sumDxhat / perGroup);
            float k = rstd * (float) (sumDxhatXhat / perGroup);
            for (int j = 0; j < cpg; j++) {
                float a = rstd * gamma[firstChannel + j];
                int i = j * plane;
                int end = i + plane;
                for (int bound = i + F.loopBound(plane); i < bound; i += F.length()) {
                    FloatVector gv = FloatVector.fromArray(F, g, i).mul(a).sub(b);
                    gv.sub(FloatVector.fromArray(F, xhat, i).mul(k)).intoArray(g, i);
                }
                for (; i < end; i++) {
                    g[i] = a * g[i] - b - k * xhat[i];
                }
            }
            gx.put(ng * perGroup, g);
        });
        for (int ng = 0; ng < n * groups; ng++) {
            int firstChannel = (ng % groups) * cpg;
            for (int j = 0; j < cpg; j++) {
                gradGamma[firstChannel + j] += partialGamma[ng][j];
                gradBeta[firstChannel + j] += partialBeta[ng][j];
            }
        }
        return dx;
    }

    /**
     * The lanes summed in order: {@code reduceLanes} adds them in a different order once the JIT compiles it, so the
     * sums (and the normalisation) would change as the worker warms up.
     */
    static float sumLanes(FloatVector v) {
        float total = 0;
        for (int i = 0; i < F.length(); i++) {
            total += v.lane(i);
        }
        return total;
    }

    private static float dot(float[] a, float[] b, int from, int to) {
        FloatVector acc = FloatVector.zero(F);
        int i = from;
        for (int bound = from + F.loopBound(to - from); i < bound; i += F.length()) {
            acc = acc.add(FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)));
        }
        float total = sumLanes(acc);
        for (; i < to; i++) {
            total += a[i] * b[i];
        }
        return total;
    }

    /** x {@code [N, in]} · w {@code [in, out]} + b: a direct gemm ({@code mmul} costs 4× more at these sizes). */
    static INDArray dense(INDArray x, INDArray w, INDArray b) {
        return Nd4j.gemm(contiguous(x), w, false, false).addiRowVector(b);
    }

    /** x · sigmoid(x). */
    static INDArray silu(INDArray input) {
        INDArray x = contiguous(input);
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        FloatBuffer in = floats(x);
        FloatBuffer out = floats(y);
        int length = (int) x.length();
        parallel((length + CHUNK - 1) / CHUNK, CHUNK).forEach(chunk -> {
            int from = chunk * CHUNK;
            float[] v = new float[Math.min(CHUNK, length - from)];
            in.get(from, v);
            silu(v, 0, v.length);
            out.put(from, v);
        });
        return y;
    }

    /** dL/dx of {@link #silu}: dy · σ(x)(1 + x(1 − σ(x))). */
    static INDArray siluBackward(INDArray input, INDArray gradOut) {
        INDArray x = contiguous(input);
        INDArray dy = contiguous(gradOut);
        INDArray dx = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        FloatBuffer in = floats(x);
        FloatBuffer gy = floats(dy);
        FloatBuffer gx = floats(dx);
        int length = (int) x.length();
        parallel((length + CHUNK - 1) / CHUNK, CHUNK).forEach(chunk -> {
            int from = chunk * CHUNK;
            int size = Math.min(CHUNK, length - from);
            float[] v = new float[size];
            float[] g = new float[size];
            in.get(from, v);
            gy.get(from, g);
            siluBackward(v, g, 0, size);
            gx.put(from, g);
        });
        return dx;
    }
}

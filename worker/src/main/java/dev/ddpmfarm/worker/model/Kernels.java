package dev.ddpmfarm.worker.model;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.api.ops.impl.transforms.strict.SwishDerivative;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GroupNorm, SiLU and dense layers, forward and backward, in as few passes over memory as they allow. Composed from
 * ND4J ops GroupNorm cost several full passes and dominated both inference and training (the broadcast multiplies'
 * backward alone took 47% of a SameDiff training step, PLATFORM-NOTES); here it is one parallel task per
 * (sample, group) on a local copy of the group. SiLU is libnd4j's vectorised swish (3.5× faster than
 * {@code Math.exp} in Java). Arrays are {@code [N, C, H, W]} in C order.
 */
final class Kernels {
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
        groups(n * groups, perGroup).forEach(ng -> {
            float[] v = new float[perGroup];
            in.get(ng * perGroup, v);
            double mean = sum(v) / perGroup;
            double sq = 0;
            for (float f : v) {
                double d = f - mean;
                sq += d * d;
            }
            float rstd = (float) (1.0 / Math.sqrt(sq / perGroup + eps));
            int firstChannel = (ng % groups) * cpg;
            for (int j = 0; j < cpg; j++) {
                float a = rstd * gamma[firstChannel + j];
                float b = beta[firstChannel + j] - (float) mean * a;
                for (int i = j * plane, end = i + plane; i < end; i++) {
                    v[i] = v[i] * a + b;
                }
            }
            out.put(ng * perGroup, v);
            if (stats != null) {
                stats.mean()[ng] = (float) mean;
                stats.rstd()[ng] = rstd;
            }
        });
        return y;
    }

    /**
     * The (sample, group) indices, in parallel when there is enough work to pay for the fork-join hand-off (at
     * batch 1 the hand-off cost more than the normalisation itself).
     */
    private static IntStream groups(int count, int perGroup) {
        IntStream indices = IntStream.range(0, count);
        return (long) count * perGroup >= 1 << 16 ? indices.parallel() : indices;
    }

    /** Σv with independent partial sums, so the loop pipelines instead of waiting on one accumulator. */
    private static double sum(float[] v) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < v.length; i += 4) {
            s0 += v[i];
            s1 += v[i + 1];
            s2 += v[i + 2];
            s3 += v[i + 3];
        }
        double total = (double) s0 + s1 + s2 + s3;
        for (; i < v.length; i++) {
            total += v[i];
        }
        return total;
    }

    /**
     * The gradients of {@link #groupNorm}: returns dx, and adds dγ and dβ into {@code gradGamma}, {@code gradBeta}.
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
        groups(n * groups, perGroup).forEach(ng -> {
            float[] xhat = new float[perGroup];
            float[] g = new float[perGroup];
            in.get(ng * perGroup, xhat);
            gy.get(ng * perGroup, g);
            int firstChannel = (ng % groups) * cpg;
            float mean = stats.mean()[ng];
            float rstd = stats.rstd()[ng];
            double sumDxhat = 0;
            double sumDxhatXhat = 0;
            for (int j = 0; j < cpg; j++) {
                float gam = gamma[firstChannel + j];
                float dGamma = 0;
                float dBeta = 0;
                for (int i = j * plane, end = i + plane; i < end; i++) {
                    float xh = (xhat[i] - mean) * rstd;
                    xhat[i] = xh;
                    dGamma += g[i] * xh;
                    dBeta += g[i];
                }
                partialGamma[ng][j] = dGamma;
                partialBeta[ng][j] = dBeta;
                sumDxhat += gam * dBeta;
                sumDxhatXhat += gam * dGamma;
            }
            float meanDxhat = (float) (sumDxhat / perGroup);
            float meanDxhatXhat = (float) (sumDxhatXhat / perGroup);
            for (int j = 0; j < cpg; j++) {
                float a = rstd * gamma[firstChannel + j];
                float b = rstd * meanDxhat;
                float k = rstd * meanDxhatXhat;
                for (int i = j * plane, end = i + plane; i < end; i++) {
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

    /** x {@code [N, in]} · w {@code [in, out]} + b: a direct gemm ({@code mmul} costs 4× more at these sizes). */
    static INDArray dense(INDArray x, INDArray w, INDArray b) {
        return Nd4j.gemm(contiguous(x), w, false, false).addiRowVector(b);
    }

    /** x · sigmoid(x), libnd4j's vectorised swish. */
    static INDArray silu(INDArray input) {
        INDArray x = contiguous(input);
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        Nd4j.exec(new Swish(x, y));
        return y;
    }

    /** dL/dx of {@link #silu}: dy · σ(x)(1 + x(1 − σ(x))). */
    static INDArray siluBackward(INDArray input, INDArray gradOut) {
        INDArray x = contiguous(input);
        INDArray dx = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        Nd4j.exec(new SwishDerivative(x, dx));
        return dx.muli(gradOut);
    }
}

package dev.ddpmfarm.worker.model;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GroupNorm and SiLU, forward and backward, as single fused passes over the arrays' memory. Composed from ND4J ops
 * they cost several full passes each and dominated both inference and training (the broadcast multiplies' backward
 * alone took 47% of a SameDiff training step, PLATFORM-NOTES); here each is one read and one write, parallel over
 * the batch. Arrays are {@code [N, C, H, W]} in C order.
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
        int perGroup = c / groups * plane;
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        FloatBuffer in = floats(x);
        FloatBuffer out = floats(y);
        IntStream.range(0, n * groups).parallel().forEach(ng -> {
            int base = ng * perGroup;
            double sum = 0;
            for (int i = 0; i < perGroup; i++) {
                sum += in.get(base + i);
            }
            float mean = (float) (sum / perGroup);
            double sq = 0;
            for (int i = 0; i < perGroup; i++) {
                float d = in.get(base + i) - mean;
                sq += d * d;
            }
            float rstd = (float) (1.0 / Math.sqrt(sq / perGroup + eps));
            int firstChannel = (ng % groups) * (c / groups);
            for (int i = 0; i < perGroup; i++) {
                int ch = firstChannel + i / plane;
                out.put(base + i, (in.get(base + i) - mean) * rstd * gamma[ch] + beta[ch]);
            }
            if (stats != null) {
                stats.mean()[ng] = mean;
                stats.rstd()[ng] = rstd;
            }
        });
        return y;
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
        IntStream.range(0, n * groups).parallel().forEach(ng -> {
            int base = ng * perGroup;
            int firstChannel = (ng % groups) * cpg;
            float mean = stats.mean()[ng];
            float rstd = stats.rstd()[ng];
            double sumDxhat = 0;
            double sumDxhatXhat = 0;
            for (int i = 0; i < perGroup; i++) {
                int local = i / plane;
                float xhat = (in.get(base + i) - mean) * rstd;
                float g = gy.get(base + i);
                float dxhat = g * gamma[firstChannel + local];
                sumDxhat += dxhat;
                sumDxhatXhat += dxhat * xhat;
                partialGamma[ng][local] += g * xhat;
                partialBeta[ng][local] += g;
            }
            float meanDxhat = (float) (sumDxhat / perGroup);
            float meanDxhatXhat = (float) (sumDxhatXhat / perGroup);
            for (int i = 0; i < perGroup; i++) {
                float xhat = (in.get(base + i) - mean) * rstd;
                float dxhat = gy.get(base + i) * gamma[firstChannel + i / plane];
                gx.put(base + i, rstd * (dxhat - meanDxhat - xhat * meanDxhatXhat));
            }
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

    /** x · sigmoid(x). */
    static INDArray silu(INDArray input) {
        INDArray x = contiguous(input);
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        FloatBuffer in = floats(x);
        FloatBuffer out = floats(y);
        chunks(x.length(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = in.get(i);
                out.put(i, v / (1f + (float) Math.exp(-v)));
            }
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
        chunks(x.length(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = in.get(i);
                float s = 1f / (1f + (float) Math.exp(-v));
                gx.put(i, gy.get(i) * s * (1f + v * (1f - s)));
            }
        });
        return dx;
    }

    private interface Range {
        void run(int from, int to);
    }

    private static void chunks(long length, Range body) {
        int parts = length < 1 << 15 ? 1 : Runtime.getRuntime().availableProcessors() * 2;
        int size = (int) ((length + parts - 1) / parts);
        IntStream.range(0, parts).parallel().forEach(p -> body.run(p * size, (int) Math.min(length, (long) (p + 1) * size)));
    }
}

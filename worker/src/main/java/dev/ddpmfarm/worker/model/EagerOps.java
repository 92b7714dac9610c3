package dev.ddpmfarm.worker.model;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs the {@link UNet} op by op on ND4J arrays, without a graph: the inference path of the worker (no graph
 * bookkeeping per call) and an independent computation to check the SameDiff graph against.
 */
final class EagerOps implements UNet.Ops<INDArray> {
    private final Map<String, INDArray> params;

    EagerOps(Map<String, INDArray> params) {
        this.params = params;
    }

    private INDArray param(String name) {
        INDArray p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("missing parameter " + name);
        }
        return p;
    }

    @Override
    public INDArray conv(INDArray x, String name, int in, int out, int kernel, int stride) {
        int pad = (kernel - 1) / 2;
        Conv2DConfig config = Conv2DConfig.builder().kH(kernel).kW(kernel).sH(stride).sW(stride).pH(pad).pW(pad)
                .paddingMode(PaddingMode.VALID).dataFormat("NCHW").build();
        return Nd4j.cnn().conv2d(x, param(name + ".w"), param(name + ".b"), config);
    }

    @Override
    public INDArray groupNorm(INDArray x, String name, int groups, int channels, int res) {
        return Kernels.groupNorm(x, param(name + ".g").data().asFloat(), param(name + ".b").data().asFloat(), groups,
                SameDiffOps.GROUP_NORM_EPS, null, false);
    }

    /** GroupNorm and SiLU in one pass over the activations. */
    @Override
    public INDArray groupNormSilu(INDArray x, String name, int groups, int channels, int res) {
        return Kernels.groupNorm(x, param(name + ".g").data().asFloat(), param(name + ".b").data().asFloat(), groups,
                SameDiffOps.GROUP_NORM_EPS, null, true);
    }

    /** The time embedding added inside the GroupNorm + SiLU pass (one pass over the activations fewer). */
    @Override
    public INDArray addGroupNormSilu(INDArray x, INDArray v, String name, int groups, int channels, int res) {
        return Kernels.groupNorm(x, v.ravel().toFloatVector(), param(name + ".g").data().asFloat(),
                param(name + ".b").data().asFloat(), groups, SameDiffOps.GROUP_NORM_EPS, null, true);
    }

    @Override
    public INDArray silu(INDArray x) {
        return Kernels.silu(x);
    }

    /**
     * A dense layer computed as a 1×1 convolution of {@code [N, in, 1, 1]}: oneDNN's convolution gives every row the
     * same bits whatever the batch size, while {@code x.mmul(w)} (OpenBLAS sgemm) rounded a row differently depending
     * on how many rows shared the call (up to 1e-5), so a sample's ε depended on its batch companions. Training keeps
     * the faster gemm of {@link Kernels#dense}.
     */
    @Override
    public INDArray dense(INDArray x, String name, int in, int out) {
        long n = x.size(0);
        Conv2DConfig config = Conv2DConfig.builder().kH(1).kW(1).sH(1).sW(1).pH(0).pW(0)
                .paddingMode(PaddingMode.VALID).dataFormat("NCHW").build();
        return Nd4j.cnn().conv2d(x.reshape(n, in, 1, 1), param(name + ".w").reshape(1, 1, in, out), param(name + ".b"),
                config).reshape(n, out);
    }

    @Override
    public INDArray add(INDArray a, INDArray b) {
        return a.add(b);
    }

    @Override
    public INDArray addPerChannel(INDArray x, INDArray v, int channels) {
        return x.add(v.reshape(v.size(0), channels, 1, 1));
    }

    @Override
    public INDArray concatChannels(INDArray a, INDArray b) {
        return Nd4j.concat(1, a, b);
    }

    @Override
    public INDArray upsample(INDArray x) {
        return Nd4j.cnn().upsampling2d(x, 2, 2, true);
    }

    @Override
    public INDArray attend(INDArray q, INDArray k, INDArray v, int channels, int res) {
        long n = q.size(0);
        long positions = (long) res * res;
        INDArray q3 = q.reshape(n, channels, positions);
        INDArray k3 = k.reshape(n, channels, positions);
        INDArray v3 = v.reshape(n, channels, positions);
        INDArray scores = Nd4j.matmul(q3, k3, true, false, false).muli(1.0 / Math.sqrt(channels));
        INDArray weights = Nd4j.nn().softmax(scores, 2);
        return Nd4j.matmul(v3, weights, false, true, false).reshape(n, channels, res, res);
    }
}

package dev.ddpmfarm.worker.model;

import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * Builds the {@link UNet} as a SameDiff graph (for training: SameDiff differentiates it). Parameters become
 * trainable variables named as in the parameter table, initialised from {@code values}.
 *
 * <p>Never uses {@code sd.nn().linear}, which returned wrong values under memory reuse in M2.1
 * (PLATFORM-NOTES); dense layers are {@code mmul} + {@code add}.
 */
final class SameDiffOps implements UNet.Ops<SDVariable> {
    static final double GROUP_NORM_EPS = 1e-5;

    private final SameDiff sd;
    private final Map<String, INDArray> values;

    SameDiffOps(SameDiff sd, Map<String, INDArray> values) {
        this.sd = sd;
        this.values = values;
    }

    private SDVariable param(String name) {
        SDVariable v = sd.getVariable(name);
        if (v != null) {
            return v;
        }
        INDArray value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no value for parameter " + name);
        }
        return sd.var(name, value);
    }

    @Override
    public SDVariable conv(SDVariable x, String name, int in, int out, int kernel, int stride) {
        int pad = (kernel - 1) / 2;
        Conv2DConfig config = Conv2DConfig.builder().kH(kernel).kW(kernel).sH(stride).sW(stride).pH(pad).pW(pad)
                .paddingMode(PaddingMode.VALID).dataFormat("NCHW").build();
        return sd.cnn().conv2d(x, param(name + ".w"), param(name + ".b"), config);
    }

    @Override
    public SDVariable groupNorm(SDVariable x, String name, int groups, int channels, int res) {
        SDVariable g = x.reshape(-1, groups, (long) channels / groups * res * res);
        SDVariable centred = g.sub(g.mean(true, 2));
        SDVariable variance = sd.math().square(centred).mean(true, 2);
        SDVariable normed = centred.mul(sd.math().rsqrt(variance.add(GROUP_NORM_EPS)))
                .reshape(-1, channels, res, res);
        return normed.mul(param(name + ".g").reshape(1, channels, 1, 1)).add(param(name + ".b").reshape(1, channels, 1, 1));
    }

    @Override
    public SDVariable silu(SDVariable x) {
        return sd.nn().swish(x);
    }

    @Override
    public SDVariable dense(SDVariable x, String name, int in, int out) {
        return x.mmul(param(name + ".w")).add(param(name + ".b"));
    }

    @Override
    public SDVariable add(SDVariable a, SDVariable b) {
        return a.add(b);
    }

    @Override
    public SDVariable addPerChannel(SDVariable x, SDVariable v, int channels) {
        return x.add(v.reshape(-1, channels, 1, 1));
    }

    @Override
    public SDVariable concatChannels(SDVariable a, SDVariable b) {
        return sd.concat(1, a, b);
    }

    @Override
    public SDVariable upsample(SDVariable x) {
        return sd.cnn().upsampling2d(x, 2, 2, true);
    }

    @Override
    public SDVariable attend(SDVariable q, SDVariable k, SDVariable v, int channels, int res) {
        long positions = (long) res * res;
        SDVariable q3 = q.reshape(-1, channels, positions);
        SDVariable k3 = k.reshape(-1, channels, positions);
        SDVariable v3 = v.reshape(-1, channels, positions);
        SDVariable scores = sd.mmul(q3, k3, true, false, false).mul(1.0 / Math.sqrt(channels));
        SDVariable weights = sd.nn().softmax(scores, 2);
        return sd.mmul(v3, weights, false, true, false).reshape(-1, channels, res, res);
    }
}

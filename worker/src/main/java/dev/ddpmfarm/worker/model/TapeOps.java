package dev.ddpmfarm.worker.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Reverse-mode differentiation of the {@link UNet} for training: runs the network eagerly on ND4J arrays,
 * records one backward step per op on a tape, and {@link #backward} replays the tape in reverse to accumulate
 * dL/dθ for every parameter. Convolutions use libnd4j's {@code conv2d_bp} (oneDNN); GroupNorm and SiLU use the
 * fused {@link Kernels}. Checked against SameDiff's own gradients of the same network in the tests.
 */
public final class TapeOps implements UNet.Ops<TapeOps.Node> {

    /** A value on the tape and the gradient accumulated for it. */
    public static final class Node {
        final INDArray value;
        INDArray grad;

        Node(INDArray value) {
            this.value = value;
        }

        public INDArray value() {
            return value;
        }

        void accumulate(INDArray g) {
            grad = grad == null ? g : grad.addi(g);
        }
    }

    private final Map<String, INDArray> params;
    private final Map<String, INDArray> grads = new LinkedHashMap<>();
    private final List<Runnable> tape = new ArrayList<>();

    public TapeOps(Map<String, INDArray> params) {
        this.params = params;
    }

    public Node input(INDArray value) {
        return new Node(value);
    }

    /** Runs the tape backwards from {@code output} with dL/d(output) = {@code gradOutput}; returns dL/dθ by name. */
    public Map<String, INDArray> backward(Node output, INDArray gradOutput) {
        output.grad = gradOutput;
        for (int i = tape.size() - 1; i >= 0; i--) {
            tape.get(i).run();
        }
        tape.clear();
        return grads;
    }

    private INDArray param(String name) {
        INDArray p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("missing parameter " + name);
        }
        return p;
    }

    private void addGrad(String name, INDArray g) {
        grads.merge(name, g, INDArray::addi);
    }

    private Node record(INDArray value, java.util.function.Consumer<INDArray> backward) {
        Node out = new Node(value);
        tape.add(() -> {
            if (out.grad != null) {
                backward.accept(out.grad);
            }
        });
        return out;
    }

    @Override
    public Node conv(Node x, String name, int in, int out, int kernel, int stride) {
        int pad = (kernel - 1) / 2;
        Conv2DConfig config = Conv2DConfig.builder().kH(kernel).kW(kernel).sH(stride).sW(stride).pH(pad).pW(pad)
                .paddingMode(PaddingMode.VALID).dataFormat("NCHW").build();
        INDArray w = param(name + ".w");
        INDArray b = param(name + ".b");
        INDArray input = Kernels.contiguous(x.value);
        INDArray y = Nd4j.cnn().conv2d(input, w, b, config);
        int[] iArgs = java.util.Arrays.stream(new Conv2D(input, w, b, null, config).iArgs()).mapToInt(a -> (int) a).toArray();
        return record(y, dy -> {
            INDArray gx = input.ulike();
            INDArray gw = w.ulike();
            INDArray gb = b.ulike();
            Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(input, w, b, Kernels.contiguous(dy))
                    .addOutputs(gx, gw, gb).addIntegerArguments(iArgs).build());
            addGrad(name + ".w", gw);
            addGrad(name + ".b", gb);
            x.accumulate(gx);
        });
    }

    @Override
    public Node groupNorm(Node x, String name, int groups, int channels, int res) {
        float[] gamma = param(name + ".g").data().asFloat();
        int n = (int) x.value.size(0);
        Kernels.GroupStats stats = new Kernels.GroupStats(new float[n * groups], new float[n * groups]);
        INDArray y = Kernels.groupNorm(x.value, gamma, param(name + ".b").data().asFloat(), groups,
                SameDiffOps.GROUP_NORM_EPS, stats);
        return record(y, dy -> {
            float[] gradGamma = new float[channels];
            float[] gradBeta = new float[channels];
            x.accumulate(Kernels.groupNormBackward(x.value, dy, gamma, groups, stats, gradGamma, gradBeta));
            addGrad(name + ".g", Nd4j.create(gradGamma, new long[] {channels}, 'c'));
            addGrad(name + ".b", Nd4j.create(gradBeta, new long[] {channels}, 'c'));
        });
    }

    @Override
    public Node silu(Node x) {
        return record(Kernels.silu(x.value), dy -> x.accumulate(Kernels.siluBackward(x.value, dy)));
    }

    @Override
    public Node dense(Node x, String name, int in, int out) {
        INDArray w = param(name + ".w");
        INDArray y = Kernels.dense(x.value, w, param(name + ".b"));
        return record(y, dy -> {
            addGrad(name + ".w", Nd4j.gemm(x.value, dy, true, false));
            addGrad(name + ".b", dy.sum(0));
            x.accumulate(Nd4j.gemm(dy, w, false, true));
        });
    }

    @Override
    public Node add(Node a, Node b) {
        return record(a.value.add(b.value), dy -> {
            a.accumulate(dy.dup());
            b.accumulate(dy.dup());
        });
    }

    @Override
    public Node addPerChannel(Node x, Node v, int channels) {
        long n = v.value.size(0);
        INDArray y = x.value.add(v.value.reshape(n, channels, 1, 1));
        return record(y, dy -> {
            x.accumulate(dy.dup());
            v.accumulate(dy.reshape(n, channels, -1).sum(2));
        });
    }

    @Override
    public Node concatChannels(Node a, Node b) {
        long ca = a.value.size(1);
        long cb = b.value.size(1);
        return record(Nd4j.concat(1, a.value, b.value), dy -> {
            a.accumulate(dy.get(NDArrayIndex.all(), NDArrayIndex.interval(0, ca)).dup('c'));
            b.accumulate(dy.get(NDArrayIndex.all(), NDArrayIndex.interval(ca, ca + cb)).dup('c'));
        });
    }

    @Override
    public Node upsample(Node x) {
        long[] s = x.value.shape();
        return record(Nd4j.cnn().upsampling2d(x.value, 2, 2, true), dy ->
                x.accumulate(Kernels.contiguous(dy).reshape(s[0], s[1], s[2], 2, s[3], 2).sum(3, 5)));
    }

    @Override
    public Node attend(Node q, Node k, Node v, int channels, int res) {
        long n = q.value.size(0);
        long positions = (long) res * res;
        double scale = 1.0 / Math.sqrt(channels);
        INDArray q3 = q.value.reshape(n, channels, positions);
        INDArray k3 = k.value.reshape(n, channels, positions);
        INDArray v3 = v.value.reshape(n, channels, positions);
        INDArray weights = Nd4j.nn().softmax(Nd4j.matmul(q3, k3, true, false, false).muli(scale), 2);
        INDArray out = Nd4j.matmul(v3, weights, false, true, false);
        return record(out.reshape(n, channels, res, res), dy -> {
            INDArray d3 = Kernels.contiguous(dy).reshape(n, channels, positions);
            v.accumulate(Nd4j.matmul(d3, weights).reshape(n, channels, res, res));
            INDArray dWeights = Nd4j.matmul(d3, v3, true, false, false);
            INDArray dScores = weights.mul(dWeights.sub(dWeights.mul(weights).sum(true, 2))).muli(scale);
            q.accumulate(Nd4j.matmul(k3, dScores, false, true, false).reshape(n, channels, res, res));
            k.accumulate(Nd4j.matmul(q3, dScores).reshape(n, channels, res, res));
        });
    }
}

package dev.ddpmfarm.worker.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class UNetModelTest {
    /** Small but complete: two levels, attention at the lowest, a class embedding. */
    static final UNetConfig TINY = new UNetConfig(1, 8, 8, new int[] {1, 2}, 1, new int[] {4}, 4, 3);

    /** Every parameter random (no zero-initialised layers), so every path of the network shows in the output. */
    static UNetModel randomModel(UNetConfig cfg, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        UNetParameters.shapes(cfg).forEach((name, shape) -> {
            float[] v = new float[(int) UNetParameters.numel(shape)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * (name.endsWith(".g") ? 0.2 : 0.3) + (name.endsWith(".g") ? 1 : 0));
            }
            values.put(name, v);
        });
        return new UNetModel(cfg, 1000, UNetModel.toArrays(cfg, values));
    }

    static INDArray input(UNetConfig cfg, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, cfg.imageChannels(), cfg.imageSize(), cfg.imageSize());
    }

    /**
     * Odd widths and sizes for the Vector API backend: 20, 60 and 80 channels fill tiles of 4, 2 and 1 vectors with 16
     * lanes (AVX-512) and of 3 and 2 with 8 (AVX2; TINY's 8 channels take the tile of 1), with a partly stored last
     * vector, and leave channels past the last whole vector in the normalisation and attention; 3×3 images leave
     * pixels outside the tiles of 4.
     */
    static final UNetConfig ODD = new UNetConfig(1, 6, 20, new int[] {1, 3}, 1, new int[] {3}, 4, 3);

    static Stream<UNetConfig> configs() {
        return Stream.of(TINY, ODD);
    }

    @ParameterizedTest
    @MethodSource("configs")
    @DisplayName("the SameDiff graph and the Vector API evaluation of the same weights agree to 1e-4, and repeated outputs are identical")
    void sameDiffMatchesVectorApi(UNetConfig cfg) {
        UNetModel model = randomModel(cfg, 1);
        INDArray x = input(cfg, 5, 2);
        int[] t = {0, 10, 500, 999, 250};
        int[] y = {0, 2, Denoiser.NO_CLASS, 1, 0};
        INDArray eps = model.predictEps(x, t, y);

        SameDiff sd = model.trainingGraph();
        Map<String, INDArray> feed = Map.of("x", x, "temb", model.timeInput(t), "y", model.classInput(y));
        INDArray first = sd.outputSingle(feed, "eps").dup();
        INDArray second = sd.outputSingle(feed, "eps").dup();
        assertEquals(first, second, "repeated output() calls on the same input must agree");
        double rel = first.sub(eps).norm2Number().doubleValue() / eps.norm2Number().doubleValue();
        assertTrue(rel < 1e-4, "relative error " + rel);
        assertTrue(eps.norm2Number().doubleValue() > 1, "the output must not be trivially small");
    }

    @ParameterizedTest
    @MethodSource("configs")
    @DisplayName("each sample's ε is bit-identical alone and in a batch")
    void aloneEqualsBatch(UNetConfig cfg) {
        UNetModel model = randomModel(cfg, 3);
        INDArray x = input(cfg, 7, 4);
        int[] t = {3, 999, 17, 500, 0, 250, 640};
        int[] y = {1, Denoiser.NO_CLASS, 0, 2, 1, 0, Denoiser.NO_CLASS};
        INDArray batch = model.predictEps(x, t, y);
        for (int i = 0; i < t.length; i++) {
            INDArray alone = model.predictEps(x.get(NDArrayIndex.interval(i, i + 1)),
                    new int[] {t[i]}, new int[] {y[i]});
            assertArrayEquals(alone.dup().data().asFloat(),
                    batch.get(NDArrayIndex.interval(i, i + 1)).dup().data().asFloat(), "sample " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    @DisplayName("gradients by the tape match SameDiff's gradients of the same network, GroupNorm and skip connections included")
    void tapeGradientsMatchSameDiff(UNetConfig cfg) {
        UNetModel model = randomModel(cfg, 4);
        INDArray x = input(cfg, 3, 5);
        INDArray noise = input(cfg, 3, 6);
        int[] t = {3, 400, 998};
        int[] y = {1, Denoiser.NO_CLASS, 2};
        UNetModel.LossAndGradients tape = model.lossAndGradients(x, t, y, noise);

        SameDiff sd = model.trainingGraph();
        Map<String, INDArray> feed = Map.of("x", x, "temb", model.timeInput(t), "y", model.classInput(y), "noise", noise);
        var reference = sd.calculateGradientsAndOutputs(feed, java.util.List.of("loss"),
                new java.util.ArrayList<>(model.parameters().keySet()));
        assertEquals(reference.getOutputs().get("loss").getDouble(0), tape.loss(), 1e-5 * tape.loss());
        assertEquals(model.parameters().keySet(), tape.gradients().keySet());
        for (String name : model.parameters().keySet()) {
            INDArray expected = reference.getGradients().get(name);
            INDArray actual = tape.gradients().get(name);
            if (name.endsWith(".attn.k.b")) {
                // the attention key bias has an exactly zero gradient (softmax is shift-invariant); both sides
                // leave rounding of about 1e-7 at 60 channels: compare it absolutely
                assertTrue(actual.norm2Number().doubleValue() < 1e-5, name + " gradient " + actual.norm2Number());
                continue;
            }
            double rel = actual.sub(expected).norm2Number().doubleValue() / (expected.norm2Number().doubleValue() + 1e-4);
            assertTrue(rel < 1e-3, name + " relative error " + rel);
        }
    }

    @Test
    @DisplayName("a finite-difference check of the loss agrees with the gradient along GroupNorm and skip-connection weights")
    void finiteDifferences() {
        UNetModel model = randomModel(TINY, 7);
        INDArray x = input(TINY, 2, 8);
        INDArray noise = input(TINY, 2, 9);
        int[] t = {10, 700};
        int[] y = {0, 1};
        var grads = model.lossAndGradients(x, t, y, noise).gradients();
        for (String name : new String[] {"down.0.0.res.norm1.g", "down.1.0.res.norm2.b", "down.1.0.res.skip.w",
                "up.0.1.res.skip.w", "mid.attn.norm.g"}) {
            INDArray p = model.parameters().get(name);
            INDArray direction = Nd4j.randn(p.dataType(), p.shape());
            double h = 1e-2;
            p.addi(direction.mul(h));
            double plus = model.lossAndGradients(x, t, y, noise).loss();
            p.subi(direction.mul(2 * h));
            double minus = model.lossAndGradients(x, t, y, noise).loss();
            p.addi(direction.mul(h));
            double numeric = (plus - minus) / (2 * h);
            double analytic = grads.get(name).mul(direction).sumNumber().doubleValue();
            assertEquals(analytic, numeric, 2e-2 * Math.abs(analytic) + 1e-4, name);
        }
    }

    @Test
    @DisplayName("the parameter table has the architecture's size and the shipped shape is within 0.5–3 M parameters")
    void parameterCount() {
        long shipped = UNetParameters.count(UNetConfig.fashionMnist(10));
        assertTrue(shipped > 500_000 && shipped < 3_000_000, "parameters " + shipped);
    }

    @Test
    @DisplayName("the shipped shape's forward pass is 554.4 MFLOP per image, as counted independently in PyTorch")
    void flopsPerImage() {
        // scripts/bench/torch-unet.py's UNet with forward hooks: convolutions 550,430,720, dense layers 281,344,
        // and the two products (qᵀk, v·softmax) of its six 64-channel attention blocks at 7×7 3,687,936
        assertEquals(554_400_000L, UNetParameters.flopsPerImage(UNetConfig.fashionMnist(10)));
    }

    @Test
    @DisplayName("weights survive a safetensors round trip bit for bit")
    void safetensorsRoundTrip(@TempDir Path dir) throws Exception {
        UNetModel model = randomModel(TINY, 3);
        model.saveWeights(dir);
        Map<String, Safetensors.Tensor> read = Safetensors.read(dir.resolve("model.safetensors"));
        assertEquals(model.parameters().keySet(), new java.util.TreeSet<>(read.keySet()).stream()
                .collect(java.util.stream.Collectors.toSet()));
        model.parameters().forEach((k, v) -> assertArrayEquals(v.dup().data().asFloat(), read.get(k).values(), k));
    }
}

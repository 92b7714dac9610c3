package dev.ddpmfarm.worker.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ddpmfarm.common.model.ModelCard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A DDPM U-Net with its weights: the {@link Denoiser} the worker samples with ({@link VectorOps}) and
 * the source of the SameDiff training graph. On disk it is a model directory: {@code config.json}
 * ({@link ModelCard}, whose {@code architecture} is the {@link UNetConfig}) and {@code model.safetensors}.
 */
public final class UNetModel implements Denoiser {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final UNetConfig config;
    private final int timesteps;
    private final Map<String, INDArray> params;
    private volatile VectorOps inference;

    public UNetModel(UNetConfig config, int timesteps, Map<String, INDArray> params) {
        this.config = config;
        this.timesteps = timesteps;
        this.params = params;
        UNetParameters.shapes(config).forEach((name, shape) -> {
            INDArray p = params.get(name);
            if (p == null || !Arrays.equals(p.shape(), shape)) {
                throw new IllegalArgumentException("parameter " + name + " missing or not of shape "
                        + Arrays.toString(shape));
            }
        });
    }

    /** A freshly initialised network (see {@link UNetParameters#initial}). */
    public static UNetModel initial(UNetConfig config, int timesteps, long seed) {
        return new UNetModel(config, timesteps, toArrays(config, UNetParameters.initial(config, seed)));
    }

    /** Loads {@code dir/config.json} and {@code dir/model.safetensors}. */
    public static UNetModel load(Path dir) {
        ModelCard card = ModelCard.read(dir);
        UNetConfig config = architecture(card);
        try {
            Map<String, float[]> values = new LinkedHashMap<>();
            Safetensors.read(dir.resolve(ModelCard.WEIGHTS_FILE_NAME)).forEach((k, t) -> values.put(k, t.values()));
            return new UNetModel(config, card.timesteps(), toArrays(config, values));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load model weights from " + dir, e);
        }
    }

    public static UNetConfig architecture(ModelCard card) {
        return JSON.convertValue(card.architecture(), UNetConfig.class);
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> architectureMap(UNetConfig config) {
        return JSON.convertValue(config, Map.class);
    }

    /** Writes the weights to {@code dir/model.safetensors} (the card is written by the caller). */
    public void saveWeights(Path dir) {
        try {
            java.nio.file.Files.createDirectories(dir);
            Safetensors.write(dir.resolve(ModelCard.WEIGHTS_FILE_NAME), tensors(params), Map.of("format", "ddpm-farm-unet"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model weights to " + dir, e);
        }
    }

    static Map<String, Safetensors.Tensor> tensors(Map<String, INDArray> arrays) {
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, new Safetensors.Tensor(v.shape(), v.dup().data().asFloat())));
        return out;
    }

    static Map<String, INDArray> toArrays(UNetConfig config, Map<String, float[]> values) {
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        UNetParameters.shapes(config).forEach((name, shape) -> {
            float[] v = values.get(name);
            if (v == null) {
                throw new IllegalArgumentException("weights lack parameter " + name);
            }
            arrays.put(name, Nd4j.create(v, shape, 'c'));
        });
        return arrays;
    }

    public UNetConfig config() {
        return config;
    }

    /**
     * The live parameter arrays, by name (the trainer updates them in place). {@link #predictEps} copies them on its
     * first call and does not see later changes: sample from a model made after training ({@code Trainer.emaModel}).
     */
    public Map<String, INDArray> parameters() {
        return params;
    }

    /**
     * ε_θ by the Vector API backend, whose copy of the weights is made on the first call: the trainer updates its
     * model's parameters in place and samples only from copies ({@code Trainer.emaModel}).
     */
    @Override
    public INDArray predictEps(INDArray xt, int[] t, int[] classes) {
        VectorOps ops = inference;
        if (ops == null) {
            ops = new VectorOps(params);
            inference = ops;
        }
        int n = t.length;
        int c = config.imageChannels();
        int s = config.imageSize();
        VectorOps.Act x = VectorOps.images(xt.dup('c').data().asFloat(), n, c, s, s);
        VectorOps.Act eps = UNet.epsilon(config, ops, x,
                VectorOps.vectors(TimeEmbedding.sinusoidal(t, config.baseChannels()), n, config.baseChannels()),
                VectorOps.vectors(oneHot(classes), n, config.numClasses() + 1));
        return Nd4j.create(VectorOps.nchw(eps), new long[] {n, c, s, s}, 'c');
    }

    /** The sinusoidal embedding of t, {@code [N, baseChannels]}. */
    public INDArray timeInput(int[] t) {
        return Nd4j.create(TimeEmbedding.sinusoidal(t, config.baseChannels()), new long[] {t.length, config.baseChannels()}, 'c');
    }

    /** One-hot labels {@code [N, numClasses + 1]}; {@link #NO_CLASS} selects the last (null) column. */
    public INDArray classInput(int[] classes) {
        return Nd4j.create(oneHot(classes), new long[] {classes.length, config.numClasses() + 1}, 'c');
    }

    private float[] oneHot(int[] classes) {
        int width = config.numClasses() + 1;
        float[] onehot = new float[classes.length * width];
        for (int i = 0; i < classes.length; i++) {
            int c = !config.conditional() || classes[i] == NO_CLASS ? config.numClasses() : classes[i];
            if (c < 0 || c > config.numClasses()) {
                throw new IllegalArgumentException("class " + classes[i] + " outside 0.." + (config.numClasses() - 1));
            }
            onehot[i * width + c] = 1f;
        }
        return onehot;
    }

    /** L_simple of one batch and its gradient with respect to every parameter, by name. */
    public record LossAndGradients(double loss, Map<String, INDArray> gradients) {
    }

    /**
     * L_simple = mean ‖ε − ε_θ(x_t, t, y)‖² over the batch and its gradients, by reverse-mode differentiation of the
     * eager network ({@link TapeOps}).
     */
    public LossAndGradients lossAndGradients(INDArray xt, int[] t, int[] classes, INDArray noise) {
        TapeOps tape = new TapeOps(params);
        TapeOps.Node eps = UNet.epsilon(config, tape, tape.input(xt), tape.input(timeInput(t)),
                tape.input(classInput(classes)));
        INDArray diff = eps.value().sub(noise);
        double loss = diff.mul(diff).meanNumber().doubleValue();
        return new LossAndGradients(loss, tape.backward(eps, diff.muli(2.0 / diff.length())));
    }

    /**
     * The network as a SameDiff graph with placeholders {@code x [N,C,H,W]}, {@code temb [N,base]},
     * {@code y [N,K+1]} and {@code noise [N,C,H,W]}, output {@code eps} and the L_simple loss {@code loss}
     * (mean squared error of ε). The graph's variables are initialised from copies of this model's weights.
     */
    public SameDiff trainingGraph() {
        SameDiff sd = SameDiff.create();
        int c = config.imageChannels();
        int s = config.imageSize();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, c, s, s);
        SDVariable temb = sd.placeHolder("temb", DataType.FLOAT, -1, config.baseChannels());
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, config.numClasses() + 1);
        SDVariable noise = sd.placeHolder("noise", DataType.FLOAT, -1, c, s, s);
        Map<String, INDArray> copies = new LinkedHashMap<>();
        params.forEach((k, v) -> copies.put(k, v.dup()));
        SDVariable eps = UNet.epsilon(config, new SameDiffOps(sd, copies), x, temb, y);
        eps = sd.identity("eps", eps);
        sd.math().squaredDifference(eps, noise).mean("loss");
        return sd;
    }

    @Override
    public int[] imageShape() {
        return new int[] {config.imageChannels(), config.imageSize(), config.imageSize()};
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public int timesteps() {
        return timesteps;
    }
}

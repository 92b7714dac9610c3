package dev.ddpmfarm.common.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A model's {@code config.json} (SPEC §7): what the gateway needs to validate requests against a model and what the
 * worker needs to rebuild it. The network itself is described by {@code architecture}, which only the worker reads;
 * the gateway treats it as opaque.
 *
 * @param name          the model id used in job requests, e.g. {@code fashion-mnist}
 * @param imageShape    {@code [C, H, W]}
 * @param timesteps     T of the diffusion process the model was trained with
 * @param betaSchedule  wire name of the β schedule ({@code linear}, {@code cosine})
 * @param classNames    one name per class label; empty for an unconditional model
 * @param architecture  the network's hyper-parameters (worker-specific)
 * @param parameters    number of trainable parameters
 * @param training      how it was trained (data, steps, epochs, wall time, ...)
 * @param quality       measured quality (Fréchet distance, NLL in bits/dim, ...); may be empty
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelCard(String name, int[] imageShape, int timesteps, String betaSchedule, List<String> classNames,
                        Map<String, Object> architecture, long parameters, Map<String, Object> training,
                        Map<String, Object> quality) {

    public static final String FILE_NAME = "config.json";
    public static final String WEIGHTS_FILE_NAME = "model.safetensors";
    /** The project's classifier of the model's images, beside the card when the model has one (needed by minConfidence). */
    public static final String CLASSIFIER_FILE_NAME = "classifier.fb";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public ModelCard {
        if (name == null || !name.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("name must match [a-z0-9][a-z0-9._-]{0,63}, got " + name);
        }
        if (imageShape == null || imageShape.length != 3) {
            throw new IllegalArgumentException("imageShape must be [C, H, W]");
        }
        if (timesteps < 1) {
            throw new IllegalArgumentException("timesteps must be >= 1");
        }
        imageShape = imageShape.clone();
        classNames = classNames == null ? List.of() : List.copyOf(classNames);
        architecture = architecture == null ? Map.of() : architecture;
        training = training == null ? Map.of() : training;
        quality = quality == null ? Map.of() : quality;
    }

    public int numClasses() {
        return classNames.size();
    }

    public boolean conditional() {
        return !classNames.isEmpty();
    }

    @Override
    public int[] imageShape() {
        return imageShape.clone();
    }

    public ModelCard withQuality(Map<String, Object> newQuality) {
        return new ModelCard(name, imageShape, timesteps, betaSchedule, classNames, architecture, parameters,
                training, newQuality);
    }

    public ModelCard withTraining(Map<String, Object> newTraining) {
        return new ModelCard(name, imageShape, timesteps, betaSchedule, classNames, architecture, parameters,
                newTraining, quality);
    }

    /** Reads {@code dir/config.json}. */
    public static ModelCard read(Path dir) {
        try {
            return JSON.readValue(dir.resolve(FILE_NAME).toFile(), ModelCard.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model card " + dir.resolve(FILE_NAME), e);
        }
    }

    public static ModelCard parse(byte[] json) {
        try {
            return JSON.readValue(json, ModelCard.class);
        } catch (IOException e) {
            throw new UncheckedIOException("invalid model card", e);
        }
    }

    /** Writes {@code dir/config.json}, replacing it atomically. */
    public void write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(FILE_NAME + ".tmp");
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, dir.resolve(FILE_NAME), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model card to " + dir, e);
        }
    }
}

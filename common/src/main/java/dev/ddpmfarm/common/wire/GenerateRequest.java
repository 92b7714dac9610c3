package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.model.ModelCard;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Sample {@code count} new images (SPEC §3, {@code "type": "generate"}). Null members take the defaults of SPEC §3;
 * {@code steps} stays null until {@link #resolve} sets it to the model's T.
 *
 * @param model           model id; default the shipped model
 * @param count           number of samples, 1 … 1,000,000; default 64
 * @param sampler         paper Algorithm 2 ({@code ddpm}) or DDIM; default ddpm
 * @param steps           reverse steps, 1 … T (ddpm: T or a respacing of T); default T
 * @param eta             DDIM noise scale 0 … 1; must be 0 for ddpm; default 0
 * @param variance        σ_t² = β_t or β̃_t (paper §3.2); default beta
 * @param seed            seed of the job's generator, 0 … 2^53−1; default chosen by the gateway
 * @param classLabel      JSON {@code class}: class label for a class-conditional model; default unconditional
 * @param guidance        classifier-free guidance scale ≥ 0, conditional models only; default 1 (no guidance)
 * @param checkpointEvery store x_t and x̂_0 frames every N steps; 0 = final only; default 100
 * @param outputs         result formats, at least one, no repeats; default png, npy, grid
 * @param priority        0 … 9; default 5
 */
public record GenerateRequest(String model, Integer count, Sampler sampler, Integer steps, Double eta,
                              VarianceType variance, Long seed, @JsonProperty("class") Integer classLabel,
                              Double guidance, Integer checkpointEvery, List<OutputFormat> outputs,
                              Integer priority) implements JobRequest {

    public static final int MAX_COUNT = 1_000_000;
    public static final int DEFAULT_COUNT = 64;
    public static final int DEFAULT_CHECKPOINT_EVERY = 100;
    public static final double NO_GUIDANCE = 1.0;
    public static final List<OutputFormat> DEFAULT_OUTPUTS =
            List.of(OutputFormat.PNG, OutputFormat.NPY, OutputFormat.GRID);

    public GenerateRequest {
        model = model == null ? DEFAULT_MODEL : model;
        count = count == null ? DEFAULT_COUNT : count;
        sampler = sampler == null ? Sampler.DDPM : sampler;
        eta = eta == null ? 0.0 : eta;
        variance = variance == null ? VarianceType.BETA : variance;
        guidance = guidance == null ? NO_GUIDANCE : guidance;
        checkpointEvery = checkpointEvery == null ? DEFAULT_CHECKPOINT_EVERY : checkpointEvery;
        outputs = outputs == null ? DEFAULT_OUTPUTS : outputs;
        priority = priority == null ? DEFAULT_PRIORITY : priority;

        Violations v = new Violations();
        JobRequest.checkCommon(v, model, seed, priority);
        v.range(count, 1, MAX_COUNT, "count");
        v.range(steps, 1, Integer.MAX_VALUE, "steps");
        if (v.range(eta, 0.0, 1.0, "eta")) {
            v.check(sampler == Sampler.DDIM || eta == 0.0, "eta", "applies to the ddim sampler only; must be 0 for ddpm");
        }
        if (v.check(guidance >= 0.0 && Double.isFinite(guidance), "guidance",
                "must be a finite number >= 0, was " + guidance)) {
            v.check(guidance == NO_GUIDANCE || classLabel != null, "guidance",
                    "steers samples toward a class: set class, or leave guidance at 1");
        }
        v.range(classLabel, 0, Integer.MAX_VALUE, "class");
        v.range(checkpointEvery, 0, Integer.MAX_VALUE, "checkpointEvery");
        v.check(!outputs.isEmpty(), "outputs", "must name at least one of " + WireEnum.names(OutputFormat.class));
        for (int i = 0; i < outputs.size(); i++) {
            v.check(outputs.get(i) != null, "outputs[" + i + "]", "must not be null");
        }
        if (v.isEmpty()) {
            v.check(new LinkedHashSet<>(outputs).size() == outputs.size(), "outputs", "must not repeat a format");
        }
        v.throwIfAny();
        outputs = List.copyOf(outputs);
    }

    @Override
    public JobType type() {
        return JobType.GENERATE;
    }

    @Override
    public int sampleCount() {
        return count;
    }

    @Override
    public boolean shardable() {
        return true;
    }

    @Override
    public List<FieldError> validate(ModelCard card) {
        List<FieldError> errors = new ArrayList<>();
        if (steps != null && steps > card.timesteps()) {
            errors.add(new FieldError("steps", "must be at most T = " + card.timesteps() + " of model " + card.name()
                    + ", was " + steps));
        }
        if (classLabel != null && !card.conditional()) {
            errors.add(new FieldError("class", "model " + card.name() + " is unconditional; leave class out"));
        } else if (classLabel != null && classLabel >= card.numClasses()) {
            errors.add(new FieldError("class", "must be between 0 and " + (card.numClasses() - 1) + " for model "
                    + card.name() + ", was " + classLabel));
        }
        if (guidance != NO_GUIDANCE && !card.conditional()) {
            errors.add(new FieldError("guidance", "needs a class-conditional model; " + card.name()
                    + " is unconditional"));
        }
        return errors;
    }

    @Override
    public GenerateRequest resolve(ModelCard card, long seedIfAbsent) {
        return new GenerateRequest(model, count, sampler, steps == null ? card.timesteps() : steps, eta, variance,
                seed == null ? seedIfAbsent : seed, classLabel, guidance, checkpointEvery, outputs, priority);
    }
}

package dev.ddpmfarm.common.wire;

import dev.ddpmfarm.common.model.ModelCard;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Progressive decoding (SPEC §3 {@code "type": "progressive"}; paper §4.3, Figures 6–7): for every input image and
 * every listed t, x_t ~ q(x_t | x_0), the model's x̂_0 from x_t, and {@code samplesPerTimestep} reconstructions
 * x_0 ~ p_θ(x_0 | x_t).
 *
 * @param model              model id; default the shipped model
 * @param input              the images (required), at most {@link #MAX_INPUTS}
 * @param timesteps          the t to start from, each 0 … T, no repeats (required)
 * @param samplesPerTimestep stochastic reconstructions per (image, t), 0 … 16; default 4
 * @param seed               seed of the job's generator; default chosen by the gateway
 * @param priority           0 … 9; default 5
 */
public record ProgressiveRequest(String model, InputSpec input, List<Integer> timesteps, Integer samplesPerTimestep,
                                 Long seed, Integer priority) implements ImageJobRequest {

    public static final int MAX_INPUTS = 100;
    public static final int MAX_TIMESTEPS = 64;
    public static final int MAX_SAMPLES_PER_TIMESTEP = 16;
    public static final int DEFAULT_SAMPLES_PER_TIMESTEP = 4;

    public ProgressiveRequest {
        model = model == null ? DEFAULT_MODEL : model;
        samplesPerTimestep = samplesPerTimestep == null ? DEFAULT_SAMPLES_PER_TIMESTEP : samplesPerTimestep;
        priority = priority == null ? DEFAULT_PRIORITY : priority;

        Violations v = new Violations();
        JobRequest.checkCommon(v, model, seed, priority);
        if (v.check(input != null, "input", "required: { \"dataset\": ..., \"indices\": [...] } or { \"images\": [...] }")) {
            v.check(input.size() <= MAX_INPUTS, "input", "at most " + MAX_INPUTS + " images, was " + input.size());
        }
        if (v.check(timesteps != null && !timesteps.isEmpty() && timesteps.size() <= MAX_TIMESTEPS, "timesteps",
                "required: a list of 1 to " + MAX_TIMESTEPS + " timesteps")) {
            for (int i = 0; i < timesteps.size(); i++) {
                v.check(timesteps.get(i) != null && timesteps.get(i) >= 0, "timesteps[" + i + "]", "must be >= 0");
            }
            v.check(new LinkedHashSet<>(timesteps).size() == timesteps.size(), "timesteps", "must not repeat a timestep");
        }
        v.range(samplesPerTimestep, 0, MAX_SAMPLES_PER_TIMESTEP, "samplesPerTimestep");
        v.throwIfAny();
        timesteps = List.copyOf(timesteps);
    }

    @Override
    public JobType type() {
        return JobType.PROGRESSIVE;
    }

    @Override
    public List<FieldError> validate(ModelCard card) {
        List<FieldError> errors = new ArrayList<>(TimestepSelection.checkRange("timesteps", timesteps,
                card.timesteps()));
        errors.addAll(input.validate(card));
        return errors;
    }

    @Override
    public ProgressiveRequest resolve(ModelCard card, long seedIfAbsent) {
        return new ProgressiveRequest(model, input, timesteps, samplesPerTimestep, seed == null ? seedIfAbsent : seed,
                priority);
    }
}

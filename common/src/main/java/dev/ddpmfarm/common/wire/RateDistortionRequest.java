package dev.ddpmfarm.common.wire;

import dev.ddpmfarm.common.model.ModelCard;
import java.util.ArrayList;
import java.util.List;

/**
 * Rate and distortion of the reverse process used as a lossy code (SPEC §3 {@code "type": "rate-distortion"};
 * paper §4.3, Table 4, Figure 5): over the input images, rate(t) in bits/dim and the RMSE of x̂_0 for every selected
 * t, and the total NLL with the discretized decoder (Eq. 13).
 *
 * @param model     model id; default the shipped model
 * @param input     the images (required), at most {@link #MAX_INPUTS}
 * @param timesteps {@code "all"} or a list of t in 0 … T; default all
 * @param seed      seed of the generator drawing x_t ~ q(x_t | x_0); default chosen by the gateway
 * @param priority  0 … 9; default 5
 */
public record RateDistortionRequest(String model, InputSpec input, TimestepSelection timesteps, Long seed,
                                    Integer priority) implements ImageJobRequest {

    public static final int MAX_INPUTS = InputSpec.MAX_IMAGES;

    public RateDistortionRequest {
        model = model == null ? DEFAULT_MODEL : model;
        timesteps = timesteps == null ? TimestepSelection.ALL : timesteps;
        priority = priority == null ? DEFAULT_PRIORITY : priority;

        Violations v = new Violations();
        JobRequest.checkCommon(v, model, seed, priority);
        if (v.check(input != null, "input", "required: { \"dataset\": ..., \"count\": N } or { \"images\": [...] }")) {
            v.check(input.size() <= MAX_INPUTS, "input", "at most " + MAX_INPUTS + " images, was " + input.size());
        }
        v.throwIfAny();
    }

    @Override
    public JobType type() {
        return JobType.RATE_DISTORTION;
    }

    @Override
    public List<FieldError> validate(ModelCard card) {
        List<FieldError> errors = new ArrayList<>(timesteps.validate("timesteps", card.timesteps()));
        errors.addAll(input.validate(card));
        return errors;
    }

    @Override
    public RateDistortionRequest resolve(ModelCard card, long seedIfAbsent) {
        return new RateDistortionRequest(model, input, timesteps, seed == null ? seedIfAbsent : seed, priority);
    }
}

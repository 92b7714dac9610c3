package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.ddpmfarm.common.model.ModelCard;
import java.util.List;

/**
 * A job as a client submits it (SPEC §3), one record per {@link JobType}, told apart by the {@code type} member.
 * <p>
 * Validation has two stages. The compact constructors check what the request alone decides (ranges, enums,
 * combinations) and fill the defaults of SPEC §3, reporting every bad field at once through
 * {@link ValidationException}. {@link #validate(ModelCard)} then checks what depends on the model (steps ≤ T,
 * class labels, conditional-only options). {@link JobRequestParser} runs both and also lists type errors.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = GenerateRequest.class, name = "generate"),
        @JsonSubTypes.Type(value = ProgressiveRequest.class, name = "progressive"),
        @JsonSubTypes.Type(value = RateDistortionRequest.class, name = "rate-distortion")})
public sealed interface JobRequest permits GenerateRequest, ImageJobRequest {

    /** The model used when a request names none: the shipped model (SPEC §3, §7). */
    String DEFAULT_MODEL = "fashion-mnist";
    /** The priority of a request that sets none; 0 is the lowest, 9 the highest. */
    int DEFAULT_PRIORITY = 5;
    /** The largest seed: seeds stay exact in JavaScript numbers (2^53 − 1). */
    long MAX_SEED = (1L << 53) - 1;
    /** Model names, as in {@link ModelCard}. */
    String MODEL_NAME_PATTERN = "[a-z0-9][a-z0-9._-]{0,63}";

    JobType type();

    String model();

    /** The seed of the job's random generator, or null until the gateway picks one ({@link #resolve}). */
    Long seed();

    Integer priority();

    /** How many result units the job produces: samples for generate, input images otherwise. */
    @JsonIgnore
    int sampleCount();

    /** Whether the job may be split into shards of consecutive sample indices run by different workers. */
    @JsonIgnore
    boolean shardable();

    /**
     * The checks that need the model: every error, or an empty list. The caller has found {@code card} by
     * {@link #model()}.
     */
    List<FieldError> validate(ModelCard card);

    /**
     * This request with everything a worker needs filled in: the seed ({@code seedIfAbsent} when the client gave
     * none) and the defaults that depend on the model (e.g. steps = T).
     */
    JobRequest resolve(ModelCard card, long seedIfAbsent);

    /** Shared checks of the members every request type has. */
    static void checkCommon(Violations v, String model, Long seed, Integer priority) {
        v.check(model.matches(MODEL_NAME_PATTERN), "model", "must match " + MODEL_NAME_PATTERN);
        v.range(seed, 0, MAX_SEED, "seed");
        v.range(priority, 0, 9, "priority");
    }
}

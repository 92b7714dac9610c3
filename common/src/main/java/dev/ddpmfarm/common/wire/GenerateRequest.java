package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.model.ModelCard;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Sample {@code count} new images (SPEC §3, {@code "type": "generate"}). Null members take the defaults of SPEC §3;
 * {@code steps} stays null until {@link #resolve} sets it to the model's T.
 * <p>
 * A labelled dataset is asked for with {@code perClass} (N samples of every class of the model) or {@code classes}
 * ({label: count}) instead of {@code count} and {@code class}. Its samples are ordered by class, ascending: sample i
 * has the class {@link #classOf(long)}, so any one image can be regenerated alone from (seed, i).
 *
 * @param model           model id; default the shipped model
 * @param count           number of samples, 1 … 1,000,000; default 64, or the sum over the classes of a dataset
 * @param sampler         paper Algorithm 2 ({@code ddpm}) or DDIM; default ddpm
 * @param steps           reverse steps, 1 … T (ddpm: T or a respacing of T); default T
 * @param eta             DDIM noise scale 0 … 1; must be 0 for ddpm; default 0
 * @param variance        σ_t² = β_t or β̃_t (paper §3.2); default beta
 * @param seed            seed of the job's generator, 0 … 2^53−1; default chosen by the gateway
 * @param classLabel      JSON {@code class}: class label for a class-conditional model; default unconditional
 * @param guidance        classifier-free guidance scale ≥ 0, conditional models only; default 1 (no guidance)
 * @param guidanceStart   the fraction of the steps (0 … 1) before which no step is guided; default 0
 * @param guidanceStop    the fraction of the steps (above guidanceStart … 1) from which no step is guided; default 1
 *                        ({@link Guidance}: of S steps, step k from x_T is guided when ⌊start·S⌋ ≤ k &lt; ⌊stop·S⌋)
 * @param checkpointEvery store x_t and x̂_0 frames every N steps; 0 = final only; default 100
 * @param outputs         result formats, at least one, no repeats; default png, npy, grid
 * @param priority        0 … 9; default 5
 * @param perClass        samples of every class (class-conditional models), instead of count and class
 * @param classes         samples per class label, instead of count and class; ordered by label
 * @param minConfidence   0 … 1: a finished sample that the model's classifier does not see as its requested class
 *                        with at least this probability is drawn again with its next seed ({@link #drawSeed}), at
 *                        most {@link #MAX_REDRAWS} times; then it is kept as it is (its labels.csv row tells)
 */
public record GenerateRequest(String model, Integer count, Sampler sampler, Integer steps, Double eta,
                              VarianceType variance, Long seed, @JsonProperty("class") Integer classLabel,
                              Double guidance, Double guidanceStart, Double guidanceStop, Integer checkpointEvery,
                              List<OutputFormat> outputs, Integer priority, Integer perClass,
                              SortedMap<Integer, Integer> classes, Double minConfidence) implements JobRequest {

    public static final int MAX_COUNT = 1_000_000;
    /**
     * The most image bytes of a job with whole-job files: a worker joins them in memory (the images and one file at
     * a time, about twice this), and a file must fit one array. A million 28×28 gray samples are 784 MB.
     */
    public static final long MAX_JOINED_BYTES = 1L << 30;
    public static final int DEFAULT_COUNT = 64;
    public static final int DEFAULT_CHECKPOINT_EVERY = 100;
    public static final double NO_GUIDANCE = 1.0;
    /** The most times one sample is drawn again for {@code minConfidence}. */
    public static final int MAX_REDRAWS = 8;
    public static final List<OutputFormat> DEFAULT_OUTPUTS =
            List.of(OutputFormat.PNG, OutputFormat.NPY, OutputFormat.GRID);

    public GenerateRequest {
        boolean dataset = perClass != null || classes != null;
        Integer requestedCount = count;
        if (classes != null) {
            count = (int) Math.min(Integer.MAX_VALUE,
                    classes.values().stream().mapToLong(c -> c == null ? 0 : c).sum());
        }
        model = model == null ? DEFAULT_MODEL : model;
        count = count == null && !dataset ? Integer.valueOf(DEFAULT_COUNT) : count;
        sampler = sampler == null ? Sampler.DDPM : sampler;
        eta = eta == null ? 0.0 : eta;
        variance = variance == null ? VarianceType.BETA : variance;
        guidance = guidance == null ? NO_GUIDANCE : guidance;
        checkpointEvery = checkpointEvery == null ? DEFAULT_CHECKPOINT_EVERY : checkpointEvery;
        outputs = outputs == null ? DEFAULT_OUTPUTS : outputs;
        priority = priority == null ? DEFAULT_PRIORITY : priority;

        Violations v = new Violations();
        JobRequest.checkCommon(v, model, seed, priority);
        if (dataset) {
            v.check(perClass == null || classes == null, "perClass", "give perClass or classes, not both");
            v.check(classLabel == null, "class", "a dataset job takes its classes from perClass or classes; "
                    + "leave class out");
            v.check(requestedCount == null || classes == null || requestedCount.equals(count), "count",
                    "follows from perClass or classes; leave it out");
            v.range(perClass, 1, MAX_COUNT, "perClass");
            if (classes != null) {
                v.check(!classes.isEmpty(), "classes", "must name at least one class label");
                boolean each = true;
                for (Map.Entry<Integer, Integer> e : classes.entrySet()) {
                    Integer label = e.getKey();
                    Integer n = e.getValue();
                    each &= v.check(label != null && label >= 0, "classes", "labels must be >= 0, was " + label)
                            && v.check(n != null, "classes." + label, "must be a count")
                            && v.range(n, 1, MAX_COUNT, "classes." + label);
                }
                if (each) {
                    v.range(count, 1, MAX_COUNT, "classes");
                }
            }
        } else {
            v.range(count, 1, MAX_COUNT, "count");
        }
        v.range(steps, 1, Integer.MAX_VALUE, "steps");
        if (v.range(eta, 0.0, 1.0, "eta")) {
            v.check(sampler == Sampler.DDIM || eta == 0.0, "eta", "applies to the ddim sampler only; must be 0 for ddpm");
        }
        if (v.check(guidance >= 0.0 && Double.isFinite(guidance), "guidance",
                "must be a finite number >= 0, was " + guidance)) {
            v.check(guidance == NO_GUIDANCE || classLabel != null || dataset, "guidance",
                    "steers samples toward a class: set class, or leave guidance at 1");
        }
        if (v.range(guidanceStart, 0.0, 1.0, "guidanceStart") & v.range(guidanceStop, 0.0, 1.0, "guidanceStop")
                && (guidanceStart != null || guidanceStop != null)) {
            double start = guidanceStart == null ? 0.0 : guidanceStart;
            double stop = guidanceStop == null ? 1.0 : guidanceStop;
            String named = guidanceStop != null ? "guidanceStop" : "guidanceStart";
            v.check(start < stop, named, "the interval [guidanceStart, guidanceStop) must not be empty, was ["
                    + start + ", " + stop + ")");
            v.check(guidance != NO_GUIDANCE, guidanceStart != null ? "guidanceStart" : "guidanceStop",
                    "limits guidance to part of the steps: set guidance too, or leave it out");
        }
        v.range(classLabel, 0, Integer.MAX_VALUE, "class");
        if (v.range(minConfidence, 0.0, 1.0, "minConfidence")) {
            v.check(minConfidence == null || classLabel != null || dataset, "minConfidence",
                    "checks samples against their requested class: set class, perClass or classes");
        }
        v.range(checkpointEvery, 0, Integer.MAX_VALUE, "checkpointEvery");
        v.check(!outputs.isEmpty(), "outputs", "must name at least one of " + WireEnum.names(OutputFormat.class));
        for (int i = 0; i < outputs.size(); i++) {
            v.check(outputs.get(i) != null, "outputs[" + i + "]", "must not be null");
        }
        List<OutputFormat> named = outputs.stream().filter(Objects::nonNull).toList();
        v.check(new LinkedHashSet<>(named).size() == named.size(), "outputs", "must not repeat a format");
        v.throwIfAny();
        outputs = List.copyOf(outputs);
        classes = classes == null ? null : Collections.unmodifiableSortedMap(new TreeMap<>(classes));
    }

    /**
     * The seed of draw {@code draw} of a sample (0: the job's seed; 1, 2, …: the redraws of {@code minConfidence}).
     * Sample i of draw k takes its noise from (drawSeed(seed, k), i, t), so {@code farm sample --seed drawSeed(…)
     * --first-index i} regenerates it alone.
     */
    public static long drawSeed(long seed, int draw) {
        return draw == 0 ? seed : (seed + draw * 0x9E3779B97F4A7C15L) & MAX_SEED;
    }

    /** The guidance of every sample of the job (the interval defaults to every step). */
    public Guidance guidancePlan() {
        return new Guidance(guidance, guidanceStart == null ? 0.0 : guidanceStart,
                guidanceStop == null ? 1.0 : guidanceStop);
    }

    /** Whether the samples have per-sample classes from {@code perClass} or {@code classes}. */
    public boolean dataset() {
        return perClass != null || classes != null;
    }

    /**
     * The class of sample {@code index} (0 … count−1), or null for an unconditional job: {@code class}, or for a
     * dataset the class whose block of consecutive indices holds it.
     */
    public Integer classOf(long index) {
        if (perClass != null) {
            return (int) (index / perClass);
        }
        if (classes == null) {
            return classLabel;
        }
        long end = 0;
        for (Map.Entry<Integer, Integer> e : classes.entrySet()) {
            end += e.getValue();
            if (index < end) {
                return e.getKey();
            }
        }
        throw new IndexOutOfBoundsException("sample " + index + " of a job of " + end + " samples");
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
        if (perClass != null && count != null && count != perClass * card.numClasses()) {
            errors.add(new FieldError("count", "follows from perClass or classes; leave it out"));
        }
        if (perClass != null && (long) perClass * card.numClasses() > MAX_COUNT) {
            errors.add(new FieldError("perClass", "makes " + (long) perClass * card.numClasses() + " samples over the "
                    + card.numClasses() + " classes of model " + card.name() + "; at most " + MAX_COUNT));
        }
        long samples = perClass != null ? (long) perClass * card.numClasses() : count;
        long pixels = (long) card.imageShape()[0] * card.imageShape()[1] * card.imageShape()[2];
        if (outputs.stream().anyMatch(o -> o != OutputFormat.PNG) && samples * pixels > MAX_JOINED_BYTES
                && samples <= MAX_COUNT) {
            errors.add(new FieldError(perClass != null ? "perClass" : classes != null ? "classes" : "count",
                    "makes " + samples + " samples of " + pixels + " bytes for the job's whole-job files ("
                            + "samples.npy and the like), over their " + MAX_JOINED_BYTES + " bytes: at most "
                            + MAX_JOINED_BYTES / pixels + " samples of model " + card.name()
                            + ", or only png outputs, or several jobs"));
        }
        if (dataset() && !card.conditional()) {
            errors.add(new FieldError(perClass != null ? "perClass" : "classes", "model " + card.name()
                    + " is unconditional; use count"));
        } else if (classes != null && classes.lastKey() >= card.numClasses()) {
            errors.add(new FieldError("classes", "labels must be between 0 and " + (card.numClasses() - 1)
                    + " for model " + card.name() + ", was " + classes.lastKey()));
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
        int stepCount = steps == null ? card.timesteps() : Math.min(steps, card.timesteps());
        if (guidance != NO_GUIDANCE && guidancePlan().guidedSteps(stepCount) == 0) {
            errors.add(new FieldError(guidanceStart != null ? "guidanceStart" : "guidanceStop", "guides none of the "
                    + stepCount + " steps: [guidanceStart, guidanceStop) must hold at least 1/" + stepCount
                    + " of them"));
        }
        if (outputs.contains(OutputFormat.IDX) && card.imageShape()[0] != 1) {
            errors.add(new FieldError("outputs", "idx holds one-channel images; model " + card.name() + " makes "
                    + card.imageShape()[0] + " channels: use npy or png"));
        }
        return errors;
    }

    @Override
    public GenerateRequest resolve(ModelCard card, long seedIfAbsent) {
        return new GenerateRequest(model, perClass != null ? perClass * card.numClasses() : count, sampler,
                steps == null ? card.timesteps() : steps, eta, variance, seed == null ? seedIfAbsent : seed, classLabel,
                guidance, guidanceStart, guidanceStop, checkpointEvery, outputs, priority, perClass, classes,
                minConfidence);
    }
}

package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.metrics.FrechetDistance;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.eval.BoundEvaluator;
import dev.ddpmfarm.worker.eval.Classifier;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.LoadedModel;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.sampling.BatchSampler;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.train.TrainingSet;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code farm eval --model DIR [--count N] [--runs ddim50,ddpm1000,cond] [--guidance G] [--guidance-start F]
 * [--guidance-stop F] [--nll-images K] [--seed S] [--batch B] [--samples RUN=FILE,…] [--report FILE]}: judges a model
 * with the project's classifier ({@code classifier.fb} beside the model, trained here first when missing). For each
 * run it samples N images and reports the Fréchet distance of their classifier features to the 10k test images
 * (beside the floor: N training images against the same test set), the class histogram, and for the conditional run
 * the share classified as the requested class; then the test NLL bound in bits/dim on K test images ({@code --runs ""}
 * measures only that). Results go to the model's {@code config.json}, each run under {@link #cardKey}, and a report
 * file.
 *
 * <p>An unconditional run can instead judge samples made elsewhere: {@code --samples ddpm1000=DIR/samples.npy} takes
 * the {@code samples.npy} of a farm generate job (count N, that sampler and step count, no class, no
 * {@code minConfidence}). A long run then goes through the farm, which checkpoints it and resumes it after a restart,
 * where this command would start again from the beginning (DDPM-1000 on 1,000 samples takes hours on 2 cores).
 */
public final class EvalCli {
    public static final String USAGE = "eval --model DIR [--count N] [--runs ddim50,ddpm1000,cond] [--guidance G]"
            + " [--guidance-start F] [--guidance-stop F] [--nll-images K] [--seed S] [--batch B]"
            + " [--samples RUN=FILE.npy,...] [--report FILE]";

    /** Three epochs reached 89.1% test accuracy, short of the 90% the issue asks for. */
    private static final int CLASSIFIER_EPOCHS = 6;

    private final LoadedModel model;
    private final Classifier classifier;
    private final FrechetDistance.Gaussian testFeatures;
    private final int batch;
    private final List<String> report = new ArrayList<>();

    private EvalCli(LoadedModel model, Classifier classifier, FrechetDistance.Gaussian testFeatures, int batch) {
        this.model = model;
        this.classifier = classifier;
        this.testFeatures = testFeatures;
        this.batch = batch;
    }

    public static void main(String[] args) throws IOException {
        Args a = new Args(args);
        Path modelDir = Path.of(a.value("--model", "models/fashion-mnist"));
        int count = Integer.parseInt(a.value("--count", "1000"));
        List<String> runs = Arrays.stream(a.value("--runs", "ddim50,ddpm1000,cond").split(",")).map(String::trim)
                .filter(run -> !run.isEmpty()).toList();
        Guidance guidance = a.guidance("2");
        int nllImages = Integer.parseInt(a.value("--nll-images", "100"));
        long seed = Long.parseLong(a.value("--seed", "0"));
        int batch = Integer.parseInt(a.value("--batch", "128"));
        Path reportFile = Path.of(a.value("--report", "target/eval-" + modelDir.getFileName() + ".txt"));
        Map<String, Path> samples = samplesFiles(a.value("--samples", ""), runs);
        LoadedModel model = LoadedModel.load(modelDir, System.err);
        if (runs.contains("cond") && model.denoiser().numClasses() == 0) {
            throw new IllegalArgumentException("--runs cond needs a class-conditional model; " + modelDir
                    + " has no classes");
        }

        TrainingSet train = TrainingSet.fashionMnist(FashionMnist.DEFAULT_DIR);
        TrainingSet test = TrainingSet.of(FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST),
                FashionMnist.CLASS_NAMES);
        Classifier classifier = classifier(modelDir, train, test);
        EvalCli eval = new EvalCli(model, classifier,
                FrechetDistance.Gaussian.fit(eval(classifier, test.images())), batch);

        Map<String, Object> quality = new LinkedHashMap<>();
        quality.put("evaluatedAt", Instant.now().toString());
        quality.put("classifierTestAccuracy", round(classifier.accuracy(test.images(), test.labels())));
        double floor = FrechetDistance.between(FrechetDistance.Gaussian.fit(eval(classifier, subset(train.images(), count, seed))),
                eval.testFeatures);
        quality.put("frechetFloor", Map.of("count", count, "distance", round(floor)));
        eval.line("classifier test accuracy %.4f; Fréchet floor (%d train vs 10k test) %.3f",
                (double) quality.get("classifierTestAccuracy"), count, floor);
        Map<String, Object> runResults = new LinkedHashMap<>();
        for (String run : runs) {
            runResults.put(cardKey(run, guidance, seed), eval.run(run, count, guidance, seed, floor, samples.get(run)));
        }
        quality.put("runs", runResults);
        if (nllImages > 0) {
            quality.put("nll", eval.nll(subset(test.images(), nllImages, seed), seed));
        }
        if (Files.exists(modelDir.resolve(ModelCard.FILE_NAME))) {
            ModelCard card = ModelCard.read(modelDir);
            card.withQuality(merged(card.quality(), quality)).write(modelDir);
        }
        Files.createDirectories(reportFile.toAbsolutePath().getParent());
        Files.write(reportFile, eval.report);
        System.out.println("report: " + reportFile);
    }

    /**
     * Samples run {@code name} here, or reads it from {@code samplesFile} when one is given, and judges it.
     *
     * @param samplesFile the {@code samples.npy} of an unconditional farm job, or null
     */
    private Map<String, Object> run(String name, int count, Guidance guidance, long seed, double floor,
                                    Path samplesFile) throws IOException {
        boolean conditional = name.equals("cond");
        Sampler sampler = name.startsWith("ddpm") ? Sampler.DDPM : Sampler.DDIM;
        int steps = conditional ? 50 : Integer.parseInt(name.replaceAll("\\D", ""));
        int classes = model.denoiser().numClasses();
        int[] requested = new int[count];
        Arrays.setAll(requested, i -> conditional ? i % classes : Denoiser.NO_CLASS);
        float[][] images;
        double seconds = Double.NaN;
        if (samplesFile != null) {
            images = readSamples(samplesFile, count, model.denoiser().imageShape());
        } else {
            Scheduler scheduler = Scheduler.create(model.process(), sampler, steps, VarianceType.BETA, 0);
            BatchSampler batchSampler = new BatchSampler(model.denoiser());
            List<SampleState> states = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                states.add(SampleState.start(name, i, seed, scheduler, requested[i],
                        conditional ? guidance : Guidance.NONE, batchSampler.dims()));
            }
            System.err.printf("%s: %d samples, %s %d steps%n", name, count, sampler.wireName(), steps);
            ProgressBar progress = new ProgressBar((long) count * steps, "sample-steps", System.err);
            long start = System.nanoTime();
            images = batchSampler.run(states, batch, r -> progress.step()).stream()
                    .map(s -> quantize(s.x())).toArray(float[][]::new);
            seconds = (System.nanoTime() - start) / 1e9;
            progress.finish();
        }

        INDArray probabilities = classifier.probabilities(Classifier.toInput(images));
        int[] histogram = new int[(int) probabilities.columns()];
        int agree = 0;
        for (int i = 0; i < count; i++) {
            int predicted = probabilities.getRow(i).argMax().getInt(0);
            histogram[predicted]++;
            if (predicted == requested[i]) {
                agree++;
            }
        }
        double distance = FrechetDistance.between(FrechetDistance.Gaussian.fit(eval(classifier, images)), testFeatures);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("sampler", sampler.wireName());
        result.put("steps", steps);
        result.put("count", count);
        result.put("seed", seed);
        result.put("frechetFloor", round(floor));
        result.put("frechet", round(distance));
        result.put("frechetOverFloor", round(distance / floor));
        result.put("classShares", Arrays.stream(histogram).mapToObj(h -> round((double) h / count)).toList());
        if (conditional) {
            result.put("guidance", guidance.scale());
            if (!guidance.everyStep()) {
                result.put("guidanceInterval", List.of(guidance.start(), guidance.stop()));
            }
            result.put("agreement", round((double) agree / count));
        }
        if (samplesFile != null) {
            result.put("samples", samplesFile.toString());
        } else {
            result.put("imagesPerSecond", round(count / seconds));
        }
        line("%-9s N=%d: Fréchet %.3f (%.2f× floor), class shares %s%s, %s", name, count, distance,
                distance / floor, result.get("classShares"),
                conditional ? String.format(Locale.ROOT, ", agreement %.3f at guidance %s", (double) agree / count,
                        describe(guidance))
                        : "", samplesFile != null ? "samples from " + samplesFile
                        : String.format(Locale.ROOT, "%.2f images/s", count / seconds));
        return result;
    }

    private static String describe(Guidance g) {
        return g.everyStep() ? String.format(Locale.ROOT, "%.2f", g.scale())
                : String.format(Locale.ROOT, "%.2f on steps [%.2f, %.2f) of the run", g.scale(), g.start(), g.stop());
    }

    /**
     * The card's key of a run: its name, for the conditional run the guidance ({@code cond-guidance1.5}, and its
     * interval when not every step: {@code cond-guidance2-steps0.4-1}), and the seed when not 0 ({@code -seed1}), so
     * that measurements of other settings sit beside each other instead of replacing one another.
     */
    static String cardKey(String run, Guidance guidance, long seed) {
        StringBuilder key = new StringBuilder(run);
        if (run.equals("cond")) {
            key.append("-guidance").append(plain(guidance.scale()));
            if (!guidance.everyStep()) {
                key.append("-steps").append(plain(guidance.start())).append('-').append(plain(guidance.stop()));
            }
        }
        return seed == 0 ? key.toString() : key.append("-seed").append(seed).toString();
    }

    private static String plain(double x) {
        return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }

    /**
     * The new measurements over a card's earlier ones: runs not measured again keep their results (the trainer's
     * export starts every new set of weights with an empty quality, so they belong to the same weights), each with
     * the seed and the floor it was measured against, which the top-level floor of a later evaluation need not share.
     */
    static Map<String, Object> merged(Map<String, Object> earlier, Map<String, Object> now) {
        Map<String, Object> out = new LinkedHashMap<>(earlier);
        out.putAll(now);
        if (earlier.get("runs") instanceof Map<?, ?> earlierRuns && now.get("runs") instanceof Map<?, ?> newRuns) {
            Map<Object, Object> runs = new LinkedHashMap<>(earlierRuns);
            runs.putAll(newRuns);
            out.put("runs", runs);
        }
        return out;
    }

    /** {@code RUN=FILE,…}: unconditional runs among {@code runs} whose samples come from a file. */
    static Map<String, Path> samplesFiles(String option, List<String> runs) {
        Map<String, Path> files = new LinkedHashMap<>();
        for (String entry : option.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            String[] parts = entry.split("=", 2);
            String run = parts[0].trim();
            if (parts.length != 2 || parts[1].isBlank()) {
                throw new IllegalArgumentException("--samples takes RUN=FILE.npy, not " + entry);
            }
            if (!runs.contains(run)) {
                throw new IllegalArgumentException("--samples names run " + run + ", which --runs " + runs
                        + " does not hold");
            }
            if (run.equals("cond")) {
                throw new IllegalArgumentException("--samples: the conditional run is sampled here (sample i asks for"
                        + " class i mod the class count); give the file of an unconditional run");
            }
            files.put(run, Path.of(parts[1].trim()));
        }
        return files;
    }

    /** The {@code count} images of a job's {@code samples.npy} on the model's scale, checked against its shape. */
    static float[][] readSamples(Path file, int count, int[] imageShape) throws IOException {
        List<Uint8Image> images = Npy.readUint8(Files.readAllBytes(file)).images();
        if (images.size() != count) {
            throw new IllegalArgumentException(file + " holds " + images.size() + " samples; --count is " + count
                    + " (the floor is measured with the same count)");
        }
        float[][] rows = new float[count][];
        for (int i = 0; i < count; i++) {
            Uint8Image image = images.get(i);
            if (image.channels() != imageShape[0] || image.height() != imageShape[1] || image.width() != imageShape[2]) {
                throw new IllegalArgumentException(file + ": sample " + i + " is " + image.height() + "x"
                        + image.width() + "x" + image.channels() + ", the model makes " + imageShape[1] + "x"
                        + imageShape[2] + "x" + imageShape[0]);
            }
            rows[i] = image.chw();
        }
        return rows;
    }

    private Map<String, Object> nll(float[][] images, long seed) {
        BoundEvaluator evaluator = new BoundEvaluator(model.denoiser(), model.process(), VarianceType.BETA);
        ProgressBar progress = new ProgressBar((long) model.process().timesteps() * ((images.length + batch - 1) / batch),
                "timesteps", System.err);
        BoundEvaluator.Result r = evaluator.evaluate(images, seed, batch, t -> progress.step());
        progress.finish();
        line("test NLL bound %.3f bits/dim on %d test images (prior %.4f, decoder %.3f)", r.nllBitsPerDim(),
                r.images(), r.priorBitsPerDim(), r.decoderBitsPerDim());
        return Map.of("images", r.images(), "bitsPerDim", round(r.nllBitsPerDim()), "priorBitsPerDim",
                round(r.priorBitsPerDim()), "decoderBitsPerDim", round(r.decoderBitsPerDim()));
    }

    private static Classifier classifier(Path modelDir, TrainingSet train, TrainingSet test) throws IOException {
        Path file = modelDir.resolve(Classifier.FILE_NAME);
        if (Files.exists(file)) {
            return Classifier.load(file);
        }
        System.err.println("no " + file + ": training the classifier first");
        Classifier classifier = Classifier.train(train.images(), train.labels(), train.classes(), CLASSIFIER_EPOCHS, 0, System.err);
        System.err.printf("classifier test accuracy %.4f%n", classifier.accuracy(test.images(), test.labels()));
        Files.createDirectories(modelDir);
        classifier.save(file);
        return classifier;
    }

    /** Penultimate features of {@code images}, in chunks to bound memory. */
    private static float[][] eval(Classifier classifier, float[][] images) {
        float[][] out = new float[images.length][];
        for (int from = 0; from < images.length; from += 1000) {
            int size = Math.min(1000, images.length - from);
            INDArray f = classifier.features(Classifier.toInput(Arrays.copyOfRange(images, from, from + size)));
            for (int i = 0; i < size; i++) {
                out[from + i] = f.getRow(i).toFloatVector();
            }
        }
        return out;
    }

    /** {@code n} rows chosen without replacement by {@code seed}. */
    static float[][] subset(float[][] rows, int n, long seed) {
        int[] order = new SplittableRandom(seed).ints(0, rows.length).distinct().limit(Math.min(n, rows.length)).toArray();
        return Arrays.stream(order).mapToObj(i -> rows[i]).toArray(float[][]::new);
    }

    /** A sample as it would be stored: rounded to 8 bits, back on the [-1, 1] scale. */
    private static float[] quantize(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = Uint8Image.toModelScale(Uint8Image.toUint8(x[i]));
        }
        return out;
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private void line(String format, Object... args) {
        String line = String.format(Locale.ROOT, format, args);
        System.out.println(line);
        report.add(line);
    }
}

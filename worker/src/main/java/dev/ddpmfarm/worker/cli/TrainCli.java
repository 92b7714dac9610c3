package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.model.UNetConfig;
import dev.ddpmfarm.worker.model.UNetModel;
import dev.ddpmfarm.worker.model.UNetParameters;
import dev.ddpmfarm.worker.train.Trainer;
import dev.ddpmfarm.worker.train.TrainingSet;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code farm train --data fashion-mnist --out DIR [--resume] [--minutes M] [--epochs E] [--batch B] [--seed S]
 * [--lr R] [--lr-anneal-steps N] [--lr-cycle-start S] [--ema-decay D] [--class-dropout P] [--base-channels C]
 * [--checkpoints DIR]}:
 * trains a U-Net with {@link Trainer} and writes the EMA weights as a model directory every ten minutes and at the end (at step N of
 * {@code --lr-anneal-steps}, where the learning rate reaches zero, at the latest). The rate (peak R, default 2e-4)
 * warms up and anneals counting from step S (default 0): a resumed run with S at its step restarts the rate.
 * {@code --ema-decay} (default 0.9995) is the decay of the weights' moving average that the model directory holds (the
 * paper's and improved-diffusion's 0.9999 suits long runs); a resumed run may change it.
 * {@code --class-dropout} (default 0.1) is the share of images trained with the null class: the unconditional model,
 * and guidance's reference. {@code --base-channels} (default 32, the shipped width; a multiple of 8) sets the
 * channels of the first level, twice that below it; a resumed run must keep the width it started with.
 */
public final class TrainCli {
    /** How often the EMA model directory is rewritten, so an interrupted run always leaves a usable model. */
    private static final Duration EXPORT_EVERY = Duration.ofMinutes(10);

    private TrainCli() {
    }

    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        Path out = Path.of(a.value("--out", null));
        String dataName = a.value("--data", "fashion-mnist");
        double minutes = Double.parseDouble(a.value("--minutes", "1e9"));
        java.util.Optional<String> epochs = a.optional("--epochs");
        int batch = Integer.parseInt(a.value("--batch", "64"));
        long seed = Long.parseLong(a.value("--seed", "0"));
        double lr = Double.parseDouble(a.value("--lr", "2e-4"));
        long annealSteps = Long.parseLong(a.value("--lr-anneal-steps", "0"));
        long cycleStart = Long.parseLong(a.value("--lr-cycle-start", "0"));
        double emaDecay = Double.parseDouble(a.value("--ema-decay", "0.9995"));
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw new IllegalArgumentException("--ema-decay must be at least 0 and below 1, was " + emaDecay);
        }
        double classDropout = Double.parseDouble(a.value("--class-dropout", "0.1"));
        if (!(classDropout >= 0 && classDropout <= 1)) {
            throw new IllegalArgumentException("--class-dropout must be between 0 and 1, was " + classDropout);
        }
        Path checkpoints = Path.of(a.value("--checkpoints",
                Path.of(System.getProperty("user.home"), ".ddpm-farm", "train", out.getFileName().toString()).toString()));
        if (Trainer.hasCheckpoint(checkpoints) && !a.flag("--resume")) {
            throw new IllegalArgumentException("a checkpoint exists in " + checkpoints
                    + ": pass --resume to continue it, or remove it to start over");
        }
        TrainingSet data = TrainingSet.load(dataName);
        UNetConfig config = UNetConfig.forImages(data.shape()[0], data.shape()[1], data.classes(),
                Integer.parseInt(a.value("--base-channels", "32")));
        double[] alphasCumprod = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000).alphasCumprod();
        Trainer.Options options = new Trainer.Options(config, alphasCumprod, batch, lr, 1000, annealSteps,
                cycleStart, 1.0, emaDecay, classDropout, seed, Duration.ofMinutes(5));
        Trainer trainer = new Trainer(options, data, checkpoints, System.out);
        if (cycleStart < 0 || cycleStart > trainer.step()) {
            throw new IllegalArgumentException("--lr-cycle-start must lie between 0 and the step training starts from ("
                    + trainer.step() + "), was " + cycleStart + "; resuming a restarted run, give it the same value again");
        }
        // a rate annealed to zero at step N ends the run there: further steps would move nothing but the EMA
        long maxSteps = Math.min(annealSteps > 0 ? annealSteps : Long.MAX_VALUE,
                epochs.map(e -> (long) Math.ceil(Double.parseDouble(e) * trainer.stepsPerEpoch())).orElse(Long.MAX_VALUE));
        System.out.printf("training %,d parameters on %,d images, batch %d, checkpoints in %s%n",
                UNetParameters.count(config), data.size(), batch, checkpoints);
        Thread main = Thread.currentThread();
        Thread stopOnSignal = new Thread(() -> {
            trainer.requestStop();
            try {
                main.join(Duration.ofMinutes(2).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(stopOnSignal);
        Instant deadline = Instant.now().plusSeconds((long) Math.min(minutes * 60, 1e12));
        while (trainer.step() < maxSteps && Instant.now().isBefore(deadline) && !trainer.stopRequested()) {
            Duration left = Duration.between(Instant.now(), deadline);
            trainer.train(maxSteps, left.compareTo(EXPORT_EVERY) < 0 ? left : EXPORT_EVERY);
            export(trainer, out, dataName, data.classNames(), options);
        }
        try {
            // a hook left behind would wait for this thread in a later System.exit of the same JVM (a test's)
            Runtime.getRuntime().removeShutdownHook(stopOnSignal);
        } catch (IllegalStateException shuttingDown) {
            // a signal stopped the training: the hook is running
        }
        System.out.printf("wrote %s at step %d (epoch %.2f)%n", out, trainer.step(), trainer.step() / trainer.stepsPerEpoch());
    }

    /** Writes the EMA weights and a card whose quality is empty: numbers measured on older weights would mislead. */
    static void export(Trainer trainer, Path out, String dataName, List<String> classNames, Trainer.Options options) {
        UNetModel ema = trainer.emaModel();
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("data", dataName);
        training.put("steps", trainer.step());
        training.put("epochs", trainer.step() / trainer.stepsPerEpoch());
        training.put("batchSize", options.batchSize());
        training.put("seed", options.seed());
        training.put("lr", options.learningRate());
        training.put("lrAnnealSteps", options.annealSteps());
        if (options.cycleStart() > 0) {
            training.put("lrCycleStart", options.cycleStart());
        }
        training.put("emaDecay", options.emaDecay());
        training.put("classDropout", options.classDropout());
        UNetConfig cfg = ema.config();
        new ModelCard(out.getFileName().toString(), ema.imageShape(), ema.timesteps(), BetaSchedule.LINEAR.wireName(),
                classNames, UNetModel.architectureMap(cfg), UNetParameters.count(cfg), training, Map.of())
                .write(out);
        ema.saveWeights(out);
    }
}

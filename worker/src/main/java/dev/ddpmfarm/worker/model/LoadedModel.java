package dev.ddpmfarm.worker.model;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.model.ModelCard;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** A model directory's denoiser and the diffusion process it was trained for. */
public record LoadedModel(Denoiser denoiser, GaussianDiffusion process) {

    /** Loads {@code dir}; when it holds no model, a random-weight Fashion-MNIST U-Net, with a warning on {@code log}. */
    public static LoadedModel load(Path dir, PrintStream log) {
        if (Files.exists(dir.resolve(ModelCard.FILE_NAME))) {
            ModelCard card = ModelCard.read(dir);
            return new LoadedModel(UNetModel.load(dir),
                    GaussianDiffusion.of(BetaSchedule.fromWireName(card.betaSchedule()), card.timesteps()));
        }
        log.println("warning: no model in " + dir + " (" + ModelCard.FILE_NAME + " missing): using a random-weight"
                + " U-Net, which draws noise, not clothes");
        return new LoadedModel(UNetModel.initial(UNetConfig.fashionMnist(10), 1000, 0),
                GaussianDiffusion.of(BetaSchedule.LINEAR, 1000));
    }
}

package dev.ddpmfarm.worker.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The noise predictor ε_θ(x_t, t, y) of the paper, evaluated on a batch whose samples may sit at different
 * timesteps and carry different class labels, so that one forward pass serves many requests.
 */
public interface Denoiser extends AutoCloseable {

    /** Class label meaning "no label": the unconditional branch of classifier-free guidance. */
    int NO_CLASS = -1;

    /**
     * Predicts the noise ε in x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε.
     *
     * @param xt      noisy images {@code [N, C, H, W]}, data scale [-1, 1]
     * @param t       per-sample timestep, 0-based in the model's full T-step process ({@code 0 … T-1})
     * @param classes per-sample class label, or {@link #NO_CLASS}; ignored by unconditional models
     * @return ε_θ with the shape of {@code xt}
     */
    INDArray predictEps(INDArray xt, int[] t, int[] classes);

    /** Image shape {@code [C, H, W]} the denoiser takes. */
    int[] imageShape();

    /** Number of class labels the model was trained with; 0 for an unconditional model. */
    int numClasses();

    /** Length T of the diffusion process the model was trained for. */
    int timesteps();

    @Override
    default void close() {
    }
}

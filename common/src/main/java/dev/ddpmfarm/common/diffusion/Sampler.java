package dev.ddpmfarm.common.diffusion;

/** How x_{t-1} is drawn from x_t and the model's ε prediction. */
public enum Sampler {
    /** Ancestral sampling, the paper's Algorithm 2 (with the clipped x̂_0 of the paper's code). */
    DDPM("ddpm"),
    /** Song, Meng and Ermon's DDIM (Eq. 12), with η scaling the noise from deterministic (0) to DDPM-like (1). */
    DDIM("ddim");

    private final String wireName;

    Sampler(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in job requests ({@code ddpm}, {@code ddim}). */
    public String wireName() {
        return wireName;
    }

    /** The sampler called {@code name}; an unknown name fails, listing the known ones. */
    public static Sampler fromWireName(String name) {
        return WireNames.lookup(Sampler.class, Sampler::wireName, "sampler", name);
    }
}

package dev.ddpmfarm.common.diffusion;

/**
 * The fixed variance σ_t² of the reverse step p_θ(x_{t-1} | x_t) = N(μ_θ(x_t, t), σ_t² I) (the paper's §3.2: both
 * choices "had similar results").
 */
public enum VarianceType {
    /**
     * σ_t² = β_t, optimal for x_0 ~ N(0, I). As in the paper's code ("fixedlarge"), the log-variance at the first
     * step (t = 1) is log β̃_2 rather than log β_1, which gives the decoder L_0 a better likelihood.
     */
    BETA("beta"),
    /** σ_t² = β̃_t = (1 − ᾱ_{t-1})/(1 − ᾱ_t) β_t (Eq. 7), optimal for a deterministic x_0 ("fixedsmall"). */
    POSTERIOR("posterior");

    private final String wireName;

    VarianceType(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in job requests ({@code beta}, {@code posterior}). */
    public String wireName() {
        return wireName;
    }

    /** The variance type called {@code name}; an unknown name fails, listing the known ones. */
    public static VarianceType fromWireName(String name) {
        return WireNames.lookup(VarianceType.class, VarianceType::wireName, "variance", name);
    }
}

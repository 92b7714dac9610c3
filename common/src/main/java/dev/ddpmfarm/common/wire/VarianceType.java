package dev.ddpmfarm.common.wire;

/** The reverse-process variance σ_t² of paper §3.2. Append-only. */
public enum VarianceType implements WireEnum {
    /** σ_t² = β_t, optimal for x_0 ~ N(0, I). */
    BETA("beta"),
    /** σ_t² = β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t (Eq. 7), optimal for a deterministic x_0. */
    POSTERIOR("posterior");

    private final String wireName;

    VarianceType(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}

package dev.ddpmfarm.common.wire;

/** How the reverse process is stepped. Append-only. */
public enum Sampler implements WireEnum {
    /** Ancestral sampling, paper Algorithm 2 (over T steps or a respacing of them). */
    DDPM("ddpm"),
    /** Song et al.'s implicit sampler over a subsequence of timesteps; {@code eta} scales its noise. */
    DDIM("ddim");

    private final String wireName;

    Sampler(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}

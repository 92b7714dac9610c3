package dev.ddpmfarm.common.wire;

/** The three kinds of job (SPEC §1, §3). Append-only: the names are part of the API. */
public enum JobType implements WireEnum {
    /** Sample new images with the reverse process (paper Algorithm 2). */
    GENERATE("generate"),
    /** Progressive decoding of given images from x_t (paper §4.3, Figures 6–7). */
    PROGRESSIVE("progressive"),
    /** Rate and distortion of the reverse process as a lossy code (paper §4.3, Table 4, Figure 5). */
    RATE_DISTORTION("rate-distortion");

    private final String wireName;

    JobType(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}

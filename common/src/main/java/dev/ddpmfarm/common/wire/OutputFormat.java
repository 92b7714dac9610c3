package dev.ddpmfarm.common.wire;

/** What a generate job stores besides its manifest (SPEC §3, §6). Append-only. */
public enum OutputFormat implements WireEnum {
    /** One PNG per sample: {@code samples/{index:06d}.png}. */
    PNG("png"),
    /** All samples as uint8 in {@code samples.npy}. */
    NPY("npy"),
    /** One overview image, {@code grid.png}. */
    GRID("grid"),
    /** The Fashion-MNIST IDX image and label files. */
    IDX("idx"),
    /** {@code labels.csv}: index, seed and class of every sample. */
    LABELS("labels");

    private final String wireName;

    OutputFormat(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}

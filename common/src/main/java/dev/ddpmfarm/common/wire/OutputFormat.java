package dev.ddpmfarm.common.wire;

/** What a generate job stores besides its manifest (SPEC §3, §6). Append-only. */
public enum OutputFormat implements WireEnum {
    /** One PNG per sample: {@code samples/{index:06d}.png}. */
    PNG("png"),
    /** All samples as uint8 in {@code samples.npy}, and their int64 labels in {@code labels.npy} when known. */
    NPY("npy"),
    /** One overview image, {@code grid.png}. */
    GRID("grid"),
    /** The Fashion-MNIST IDX image and label files. */
    IDX("idx"),
    /** {@code labels.csv}: index, seed, requested class, the classifier's class and confidence of every sample. */
    LABELS("labels"),
    /** {@code imagefolder.zip}: {@code {class}/{index:06d}.png}, one folder per class. */
    IMAGEFOLDER("imagefolder");

    private final String wireName;

    OutputFormat(String wireName) {
        this.wireName = wireName;
    }

    @Override
    public String wireName() {
        return wireName;
    }
}

package dev.ddpmfarm.common.wire;

/** The built-in image sets a progressive or rate-distortion job can take its inputs from. Append-only. */
public enum Dataset implements WireEnum {
    FASHION_MNIST_TRAIN("fashion-mnist:train", 60_000),
    FASHION_MNIST_TEST("fashion-mnist:test", 10_000);

    private final String wireName;
    private final int size;

    Dataset(String wireName, int size) {
        this.wireName = wireName;
        this.size = size;
    }

    @Override
    public String wireName() {
        return wireName;
    }

    /** {@code [C, H, W]} of its images: both built-in sets are Fashion-MNIST, 28×28 grayscale. */
    public int[] imageShape() {
        return new int[] {1, 28, 28};
    }

    /** Number of images; valid indices are {@code 0 … size-1}. */
    public int size() {
        return size;
    }
}

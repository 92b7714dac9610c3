package dev.ddpmfarm.worker.model;

import java.util.Arrays;

/**
 * Architecture of the DDPM U-Net (Ho et al. 2020, Appendix B), the {@code architecture} object of a model's
 * {@code config.json}.
 *
 * @param imageChannels        C of the images {@code [N, C, H, W]}
 * @param imageSize            H = W
 * @param baseChannels         channels at full resolution; the time embedding has {@code 4 × baseChannels}
 * @param channelMults         channel multiplier per resolution level; level k runs at {@code imageSize / 2^k}
 * @param numResBlocks         residual blocks per level on the way down (one more on the way up)
 * @param attentionResolutions resolutions (side length) with a self-attention block after each residual block
 * @param groups               GroupNorm groups
 * @param numClasses           class labels for conditioning (0 = unconditional); index {@code numClasses} is the
 *                             "null" label used for classifier-free guidance
 */
public record UNetConfig(int imageChannels, int imageSize, int baseChannels, int[] channelMults, int numResBlocks,
                         int[] attentionResolutions, int groups, int numClasses) {

    public UNetConfig {
        require(imageChannels >= 1, "imageChannels must be >= 1");
        require(baseChannels >= 1, "baseChannels must be >= 1");
        require(channelMults != null && channelMults.length >= 1, "channelMults must name at least one level");
        require(numResBlocks >= 1, "numResBlocks must be >= 1");
        require(groups >= 1, "groups must be >= 1");
        require(numClasses >= 0, "numClasses must be >= 0");
        channelMults = channelMults.clone();
        attentionResolutions = attentionResolutions == null ? new int[0] : attentionResolutions.clone();
        require(imageSize % (1 << (channelMults.length - 1)) == 0,
                "imageSize " + imageSize + " must be divisible by 2^(levels-1)");
        for (int m : channelMults) {
            require(m >= 1 && (baseChannels * m) % groups == 0,
                    "every level's channels (baseChannels × mult) must be divisible by groups");
        }
    }

    /** The shipped Fashion-MNIST architecture: 28×28×1, levels 28/14/7 with 32/64/64 channels, attention at 7×7. */
    public static UNetConfig fashionMnist(int numClasses) {
        return forImages(1, 28, numClasses);
    }

    /**
     * The shipped architecture for square images of another size or channel count: three levels (two when the size
     * is not divisible by 4) with 32/64/64 channels and attention at the lowest resolution.
     */
    public static UNetConfig forImages(int channels, int size, int numClasses) {
        return forImages(channels, size, numClasses, 32);
    }

    /** The same shape with {@code baseChannels} at the first level (twice that below it); a multiple of 8. */
    public static UNetConfig forImages(int channels, int size, int numClasses, int baseChannels) {
        int[] mults = size % 4 == 0 ? new int[] {1, 2, 2} : new int[] {1, 2};
        return new UNetConfig(channels, size, baseChannels, mults, 2, new int[] {size >> (mults.length - 1)}, 8,
                numClasses);
    }

    public int timeEmbeddingChannels() {
        return 4 * baseChannels;
    }

    public int levels() {
        return channelMults.length;
    }

    public int channels(int level) {
        return baseChannels * channelMults[level];
    }

    public int resolution(int level) {
        return imageSize >> level;
    }

    public boolean attentionAt(int level) {
        return Arrays.stream(attentionResolutions).anyMatch(r -> r == resolution(level));
    }

    public boolean conditional() {
        return numClasses > 0;
    }

    @Override
    public int[] channelMults() {
        return channelMults.clone();
    }

    @Override
    public int[] attentionResolutions() {
        return attentionResolutions.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UNetConfig c && imageChannels == c.imageChannels && imageSize == c.imageSize
                && baseChannels == c.baseChannels && Arrays.equals(channelMults, c.channelMults)
                && numResBlocks == c.numResBlocks && Arrays.equals(attentionResolutions, c.attentionResolutions)
                && groups == c.groups && numClasses == c.numClasses;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(channelMults) + Arrays.hashCode(attentionResolutions)
                + java.util.Objects.hash(imageChannels, imageSize, baseChannels, numResBlocks, groups, numClasses);
    }

    @Override
    public String toString() {
        return "UNetConfig[imageChannels=" + imageChannels + ", imageSize=" + imageSize + ", baseChannels="
                + baseChannels + ", channelMults=" + Arrays.toString(channelMults) + ", numResBlocks=" + numResBlocks
                + ", attentionResolutions=" + Arrays.toString(attentionResolutions) + ", groups=" + groups
                + ", numClasses=" + numClasses + "]";
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}

package dev.ddpmfarm.common.wire;

/**
 * A job over input images (progressive decoding, rate-distortion): one unit of work per image, run as a single
 * task because every image's result joins one table or grid.
 */
public sealed interface ImageJobRequest extends JobRequest permits ProgressiveRequest, RateDistortionRequest {

    /** The images the job reads. */
    InputSpec input();

    @Override
    default int sampleCount() {
        return input().size();
    }

    @Override
    default boolean shardable() {
        return false;
    }
}

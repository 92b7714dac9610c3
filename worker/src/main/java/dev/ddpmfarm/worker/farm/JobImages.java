package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.data.FashionMnist;
import dev.ddpmfarm.common.wire.InputSpec;
import dev.ddpmfarm.worker.output.ImageInput;
import dev.ddpmfarm.worker.train.TrainingSet;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The input images of a progressive or rate-distortion job as the model takes them: rows of C·H·W values on the
 * [-1, 1] scale. Built-in datasets are read from the Debian package's IDX files; uploads are decoded, converted and
 * resized by {@link ImageInput}, which rejects what it cannot read unambiguously.
 */
final class JobImages {
    private JobImages() {
    }

    /**
     * @throws IllegalArgumentException naming the bad image when an upload cannot be used (the job fails with it)
     * @throws IOException              when the dataset cannot be read
     */
    static float[][] load(InputSpec input, int[] shape) throws IOException {
        if (input.images() != null) {
            List<String> images = input.images();
            ImageInput decoder = new ImageInput(shape);
            float[][] rows = new float[images.size()][];
            for (int i = 0; i < rows.length; i++) {
                try {
                    rows[i] = decoder.read(Base64.getDecoder().decode(images.get(i)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("input.images[" + i + "]: " + e.getMessage(), e);
                }
            }
            return rows;
        }
        TrainingSet set = TrainingSet.of(FashionMnist.load(FashionMnist.split(input.dataset())),
                FashionMnist.CLASS_NAMES);
        if (!Arrays.equals(shape, set.shape())) {
            throw new IllegalArgumentException("the model takes images of shape " + Arrays.toString(shape)
                    + ", not the " + Arrays.toString(set.shape()) + " images of " + input.dataset().wireName());
        }
        int[] indices = input.indices() != null ? input.indices().stream().mapToInt(Integer::intValue).toArray()
                : IntStream.range(0, input.count()).toArray();
        float[][] rows = new float[indices.length][];
        for (int i = 0; i < indices.length; i++) {
            rows[i] = set.images()[indices[i]];
        }
        return rows;
    }
}

package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.ddpmfarm.common.data.PngHeader;
import dev.ddpmfarm.common.model.ModelCard;
import java.awt.Rectangle;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The images a progressive or rate-distortion job works on (SPEC §3): either images of a built-in {@link Dataset}
 * (by {@code indices}, or the first {@code count}) or uploaded base64 PNGs in {@code images}.
 *
 * @param dataset a {@link Dataset} wire name such as {@code fashion-mnist:test}
 * @param indices image indices into the dataset, each {@code 0 … size−1}
 * @param count   the first {@code count} images of the dataset
 * @param images  base64-encoded PNG files
 */
public record InputSpec(Dataset dataset, List<Integer> indices, Integer count, List<String> images) {

    /** The largest number of input images of any job; each job type may allow fewer. */
    public static final int MAX_IMAGES = 10_000;
    /** The largest decoded size of one uploaded image. */
    public static final int MAX_IMAGE_BYTES = 1 << 20;

    public InputSpec {
        Violations v = new Violations();
        if (images != null) {
            v.check(dataset == null && indices == null && count == null, "images",
                    "give either images or a dataset, not both");
            if (v.check(!images.isEmpty() && images.size() <= MAX_IMAGES, "images",
                    "must hold 1 to " + MAX_IMAGES + " images, was " + images.size())) {
                for (int i = 0; i < images.size(); i++) {
                    checkImage(v, images.get(i), "images[" + i + "]");
                }
            }
        } else if (v.check(dataset != null, "dataset", "give a dataset (" + WireEnum.names(Dataset.class)
                + ") or images")) {
            v.check(indices == null || count == null, "count", "give either indices or count, not both");
            v.check(indices != null || count != null, "indices", "give indices or count");
            if (indices != null && v.check(!indices.isEmpty() && indices.size() <= MAX_IMAGES, "indices",
                    "must hold 1 to " + MAX_IMAGES + " indices, was " + indices.size())) {
                for (int i = 0; i < indices.size(); i++) {
                    Integer index = indices.get(i);
                    v.check(index != null && index >= 0 && index < dataset.size(), "indices[" + i + "]",
                            "must be between 0 and " + (dataset.size() - 1) + " for " + dataset.wireName()
                                    + ", was " + index);
                }
            }
            v.range(count, 1, Math.min(MAX_IMAGES, dataset.size()), "count");
        }
        v.throwIfAny();
        indices = indices == null ? null : List.copyOf(indices);
        images = images == null ? null : List.copyOf(images);
    }

    private static void checkImage(Violations v, String image, String field) {
        if (!v.check(image != null && !image.isEmpty(), field, "must be a base64-encoded PNG")) {
            return;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(image);
        } catch (IllegalArgumentException e) {
            v.add(new FieldError(field, "is not valid base64: " + e.getMessage()));
            return;
        }
        if (v.check(bytes.length <= MAX_IMAGE_BYTES, field, "must be at most " + MAX_IMAGE_BYTES + " bytes decoded")) {
            try {
                PngHeader.read(bytes, PngHeader.MAX_PIXELS);
            } catch (IllegalArgumentException e) {
                v.add(new FieldError(field, e.getMessage()));
            }
        }
    }

    /**
     * The checks against the model: uploads must have its aspect ratio (they are resized to its size), a dataset its
     * image shape. Fields are named from the request's root ({@code input.…}).
     */
    List<FieldError> validate(ModelCard card) {
        List<FieldError> errors = new ArrayList<>();
        int[] shape = card.imageShape();
        if (images != null) {
            for (int i = 0; i < images.size(); i++) {
                PngHeader header = PngHeader.read(Base64.getDecoder().decode(images.get(i)), PngHeader.MAX_PIXELS);
                if (!header.fits(shape[2], shape[1])) {
                    errors.add(new FieldError("input.images[" + i + "]", header.misfit(shape[2], shape[1])));
                }
            }
        } else if (!Arrays.equals(shape, dataset.imageShape())) {
            errors.add(new FieldError("input.dataset", dataset.wireName() + " holds images of shape "
                    + Arrays.toString(dataset.imageShape()) + "; model " + card.name() + " takes "
                    + Arrays.toString(shape)));
        }
        return errors;
    }

    /**
     * Decodes every uploaded image and names those that fail (a corrupt or truncated file whose header is sound): the
     * last check of a submission, and the slowest, so the gateway runs it off its event loops. Only the last row is
     * kept: reaching it inflates and unfilters every row, as the worker's full decode does, while a small file that
     * declares 4096² pixels (a decompression bomb) allocates one row, not the whole raster.
     */
    public List<FieldError> decodeErrors() {
        List<FieldError> errors = new ArrayList<>();
        for (int i = 0; images != null && i < images.size(); i++) {
            byte[] png = Base64.getDecoder().decode(images.get(i));
            try {
                decodeLastRow(png);
            } catch (IOException | RuntimeException e) {
                errors.add(new FieldError("input.images[" + i + "]", "is a corrupt or truncated PNG (" + png.length
                        + " bytes): " + e.getMessage()));
            }
        }
        return errors;
    }

    private static void decodeLastRow(byte[] png) throws IOException {
        ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            reader.setInput(in, true, true);
            ImageReadParam lastRow = reader.getDefaultReadParam();
            lastRow.setSourceRegion(new Rectangle(0, reader.getHeight(0) - 1, reader.getWidth(0), 1));
            reader.read(0, lastRow);
        } finally {
            reader.dispose();
        }
    }

    /** The number of input images. */
    @JsonIgnore
    public int size() {
        if (images != null) {
            return images.size();
        }
        return indices != null ? indices.size() : count;
    }
}

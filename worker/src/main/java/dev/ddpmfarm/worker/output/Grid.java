package dev.ddpmfarm.worker.output;

import java.util.List;

/** Tiles images into one, like torchvision's {@code make_grid}: ⌈√N⌉ columns, black padding around every tile. */
public final class Grid {
    /** Padding in pixels between tiles and around the border. */
    public static final int PADDING = 2;

    private Grid() {
    }

    /** The grid of {@code images} (all of one size) with {@link #PADDING}. */
    public static Uint8Image of(List<Uint8Image> images) {
        return of(images, PADDING);
    }

    /** The grid of {@code images} (all of one size), {@code padding} pixels of black between and around them. */
    public static Uint8Image of(List<Uint8Image> images, int padding) {
        return of(images, (int) Math.ceil(Math.sqrt(images.size())), padding);
    }

    /** The grid of {@code images} (all of one size) in rows of {@code cols}, {@code padding} pixels of black. */
    public static Uint8Image of(List<Uint8Image> images, int cols, int padding) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a grid needs at least one image");
        }
        Uint8Image first = images.get(0);
        int h = first.height();
        int w = first.width();
        int c = first.channels();
        int rows = (images.size() + cols - 1) / cols;
        int gridH = rows * (h + padding) + padding;
        int gridW = cols * (w + padding) + padding;
        byte[] pixels = new byte[gridH * gridW * c];
        for (int i = 0; i < images.size(); i++) {
            Uint8Image image = images.get(i);
            if (image.height() != h || image.width() != w || image.channels() != c) {
                throw new IllegalArgumentException("grid images must all be " + h + "x" + w + "x" + c);
            }
            int top = padding + (i / cols) * (h + padding);
            int left = padding + (i % cols) * (w + padding);
            for (int y = 0; y < h; y++) {
                System.arraycopy(image.pixels(), y * w * c, pixels, ((top + y) * gridW + left) * c, w * c);
            }
        }
        return new Uint8Image(gridH, gridW, c, pixels);
    }
}

package dev.ddpmfarm.worker.sampling;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The edge between per-sample {@code float[]} images and the batched INDArrays a {@code Denoiser} takes. */
public final class Tensors {
    private Tensors() {
    }

    /** {@code rows} images of {@code imageShape} laid end to end, as an INDArray {@code [rows, C, H, W]}. */
    public static INDArray batch(float[] data, int rows, int[] imageShape) {
        long[] shape = new long[imageShape.length + 1];
        shape[0] = rows;
        for (int i = 0; i < imageShape.length; i++) {
            shape[i + 1] = imageShape[i];
        }
        return Nd4j.create(data, shape, 'c');
    }

    /** The values of {@code array} in row-major order, as floats. */
    public static float[] flat(INDArray array) {
        return array.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}

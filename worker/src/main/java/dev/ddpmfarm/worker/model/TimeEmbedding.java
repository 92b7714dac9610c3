package dev.ddpmfarm.worker.model;

/** The sinusoidal timestep embedding of the Transformer, as used by DDPM ({@code get_timestep_embedding}). */
public final class TimeEmbedding {
    private TimeEmbedding() {
    }

    /**
     * Embeds each timestep into {@code dim} values: {@code [sin(t·f_0) … sin(t·f_{h-1}), cos(t·f_0) … cos(t·f_{h-1})]}
     * with {@code h = dim/2} and {@code f_i = exp(-ln(10000)·i/(h-1))}.
     *
     * @return row-major {@code [N, dim]}
     */
    public static float[] sinusoidal(int[] t, int dim) {
        if (dim < 4 || dim % 2 != 0) {
            throw new IllegalArgumentException("embedding dim must be even and >= 4, was " + dim);
        }
        int half = dim / 2;
        double scale = Math.log(10000.0) / (half - 1);
        float[] out = new float[t.length * dim];
        for (int n = 0; n < t.length; n++) {
            for (int i = 0; i < half; i++) {
                double arg = t[n] * Math.exp(-scale * i);
                out[n * dim + i] = (float) Math.sin(arg);
                out[n * dim + half + i] = (float) Math.cos(arg);
            }
        }
        return out;
    }
}

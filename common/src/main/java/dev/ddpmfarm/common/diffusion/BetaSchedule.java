package dev.ddpmfarm.common.diffusion;

/**
 * Named β schedules of the forward process q(x_t | x_{t-1}) = N(√(1-β_t) x_{t-1}, β_t I) (the paper's Eq. 2).
 * Named schedules are append-only: a model's {@code config.json} refers to one by its {@link #wireName()}, so an
 * existing name must keep producing the same betas.
 */
public enum BetaSchedule {
    /**
     * The paper's schedule (§4): β rising linearly from 10⁻⁴ at t = 1 to 0.02 at t = T, as
     * {@code β_i = 10⁻⁴ + (0.02 − 10⁻⁴) · i / (T − 1)} for the 0-based index i.
     */
    LINEAR("linear") {
        @Override
        public double[] betas(int timesteps) {
            requirePositive(timesteps);
            double[] betas = new double[timesteps];
            for (int i = 0; i < timesteps; i++) {
                betas[i] = timesteps == 1 ? LINEAR_START : LINEAR_START + (LINEAR_END - LINEAR_START) * i / (timesteps - 1);
            }
            return betas;
        }
    },
    /**
     * Nichol and Dhariwal's cosine schedule (Improved DDPM, Eq. 17): ᾱ(t) = f(t)/f(0) with
     * f(t) = cos²((t/T + 0.008)/1.008 · π/2), discretised as β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999).
     */
    COSINE("cosine") {
        @Override
        public double[] betas(int timesteps) {
            requirePositive(timesteps);
            double[] betas = new double[timesteps];
            for (int i = 0; i < timesteps; i++) {
                double from = cosineAlphaBar((double) i / timesteps);
                double to = cosineAlphaBar((double) (i + 1) / timesteps);
                betas[i] = Math.min(1 - to / from, COSINE_MAX_BETA);
            }
            return betas;
        }
    };

    static final double LINEAR_START = 1e-4;
    static final double LINEAR_END = 0.02;
    static final double COSINE_MAX_BETA = 0.999;
    private static final double COSINE_OFFSET = 0.008;

    private final String wireName;

    BetaSchedule(String wireName) {
        this.wireName = wireName;
    }

    /** β_1 … β_T, index 0 holding β_1. */
    public abstract double[] betas(int timesteps);

    /** The name used in {@code config.json} ({@code linear}, {@code cosine}). */
    public String wireName() {
        return wireName;
    }

    /** The schedule called {@code name}; an unknown name fails, listing the known ones. */
    public static BetaSchedule fromWireName(String name) {
        return WireNames.lookup(BetaSchedule.class, BetaSchedule::wireName, "beta schedule", name);
    }

    private static double cosineAlphaBar(double fraction) {
        double c = Math.cos((fraction + COSINE_OFFSET) / (1 + COSINE_OFFSET) * Math.PI / 2);
        return c * c;
    }

    private static void requirePositive(int timesteps) {
        if (timesteps < 1) {
            throw new IllegalArgumentException("timesteps must be >= 1, got " + timesteps);
        }
    }
}

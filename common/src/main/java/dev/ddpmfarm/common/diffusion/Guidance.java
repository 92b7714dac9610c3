package dev.ddpmfarm.common.diffusion;

/**
 * Classifier-free guidance (Ho and Salimans 2022) of one sample: ε = ε(x, ∅) + scale · (ε(x, c) − ε(x, ∅)), taken only
 * in an interval of its reverse steps, as diffusers' guiders take it: with S steps, step k (0 = the first, from x_T)
 * is guided when ⌊start·S⌋ ≤ k &lt; ⌊stop·S⌋, and the other steps take the plain conditional ε(x, c). Guidance at the
 * noisiest steps narrows the samples more than it sharpens them (Kynkäänniemi et al. 2024, "Applying guidance in a
 * limited interval improves sample and distribution quality in diffusion models"): a start above 0 leaves those steps
 * unguided.
 *
 * @param scale the scale w ≥ 0; 1 is plain conditioning
 * @param start the fraction of the steps, 0 … 1, before which no step is guided
 * @param stop  the fraction of the steps, start … 1, from which no step is guided
 */
public record Guidance(double scale, double start, double stop) {
    /** Plain conditioning, or no class at all: every step takes one forward row. */
    public static final Guidance NONE = new Guidance(1, 0, 1);

    public Guidance {
        if (!Double.isFinite(scale) || scale < 0) {
            throw new IllegalArgumentException("guidance must be a finite number >= 0, got " + scale);
        }
        if (!(start >= 0 && start < stop && stop <= 1)) {
            throw new IllegalArgumentException("the guidance interval must satisfy 0 <= start < stop <= 1, got ["
                    + start + ", " + stop + ")");
        }
    }

    /** Guidance at every step. */
    public static Guidance of(double scale) {
        return new Guidance(scale, 0, 1);
    }

    /** Whether the scale differs from 1 at some step. */
    public boolean any() {
        return scale != 1;
    }

    /** Whether the interval is every step, the default. */
    public boolean everyStep() {
        return start == 0 && stop == 1;
    }

    /** How many of {@code steps} steps are guided. */
    public int guidedSteps(int steps) {
        return any() ? Math.max(0, first(stop, steps) - first(start, steps)) : 0;
    }

    /** Whether any step from {@code position} (0 … steps) on, of {@code steps}, is guided. */
    public boolean guidedFrom(int position, int steps) {
        return any() && Math.max(position, first(start, steps)) < first(stop, steps);
    }

    /** Whether step {@code position} (0 … steps−1, counted from x_T) of {@code steps} is guided. */
    public boolean at(int position, int steps) {
        return any() && first(start, steps) <= position && position < first(stop, steps);
    }

    /** The first step at or after {@code fraction} of {@code steps}: ⌊fraction·steps⌋. */
    private static int first(double fraction, int steps) {
        return (int) Math.floor(fraction * steps);
    }
}

package dev.ddpmfarm.worker.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Adam (Kingma & Ba) with linear learning-rate warm-up, an optional linear decay to zero (improved-diffusion's
 * {@code lr_anneal_steps}) and global-norm gradient clipping, plus an exponential moving average of the weights — the
 * optimiser of DDPM's training (lr 2e-4, clip 1, EMA of the weights). Its whole state is a few named arrays and the
 * step count (the rate is a function of the step), so a checkpoint resumes it exactly.
 */
final class AdamEma {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPSILON = 1e-8;

    private final double learningRate;
    private final int warmupSteps;
    private final long annealSteps;
    private final long cycleStart;
    private final double gradClip;
    private final double emaDecay;
    final Map<String, INDArray> m = new LinkedHashMap<>();
    final Map<String, INDArray> v = new LinkedHashMap<>();
    final Map<String, INDArray> ema = new LinkedHashMap<>();

    AdamEma(Map<String, INDArray> params, double learningRate, int warmupSteps, long annealSteps, long cycleStart,
            double gradClip, double emaDecay) {
        if (annealSteps > 0 && cycleStart >= annealSteps) {
            throw new IllegalArgumentException("the rate's cycle starts at step " + cycleStart
                    + ", at or after the step it reaches zero (" + annealSteps + ")");
        }
        this.learningRate = learningRate;
        this.warmupSteps = warmupSteps;
        this.annealSteps = annealSteps;
        this.cycleStart = cycleStart;
        this.gradClip = gradClip;
        this.emaDecay = emaDecay;
        params.forEach((k, p) -> {
            m.put(k, p.ulike().assign(0));
            v.put(k, p.ulike().assign(0));
            ema.put(k, p.dup());
        });
    }

    /**
     * Learning rate at (1-based) step {@code step}: linear warm-up, then constant, or with {@code annealSteps > 0}
     * falling linearly to zero at step {@code annealSteps}. Both count from {@code cycleStart} (0 for a run's first
     * cycle): a resumed run given a later start warms up again and anneals over the steps left (a warm restart).
     */
    double learningRate(long step) {
        long inCycle = step - cycleStart;
        double warm = Math.max(0.0, Math.min(1.0, (double) inCycle / Math.max(1, warmupSteps)));
        return learningRate * warm
                * (annealSteps > 0 ? Math.max(0.0, 1.0 - (double) inCycle / (annealSteps - cycleStart)) : 1.0);
    }

    /**
     * Applies one update in place to {@code params} for the (1-based) step {@code step}, then the EMA.
     *
     * @return the global gradient norm before clipping
     */
    double update(Map<String, INDArray> params, Map<String, INDArray> grads, long step) {
        double sumSq = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sumSq += n * n;
        }
        double norm = Math.sqrt(sumSq);
        double scale = norm > gradClip ? gradClip / norm : 1.0;
        double lr = learningRate(step) * Math.sqrt(1 - Math.pow(BETA2, step)) / (1 - Math.pow(BETA1, step));
        params.forEach((k, p) -> {
            INDArray g = grads.get(k);
            if (g == null) {
                throw new IllegalStateException("no gradient for " + k);
            }
            if (scale != 1.0) {
                g = g.mul(scale);
            }
            INDArray mk = m.get(k).muli(BETA1).addi(g.mul(1 - BETA1));
            INDArray vk = v.get(k).muli(BETA2).addi(g.mul(g).muli(1 - BETA2));
            p.subi(mk.div(Transforms.sqrt(vk, true).addi(EPSILON)).muli(lr));
        });
        double decay = Math.min(emaDecay, (1.0 + step) / (10.0 + step));
        params.forEach((k, p) -> ema.get(k).muli(decay).addi(p.mul(1 - decay)));
        return norm;
    }
}

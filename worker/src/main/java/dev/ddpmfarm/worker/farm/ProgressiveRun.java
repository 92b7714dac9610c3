package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.KeyedNoise;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.ProgressiveRequest;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.eval.BoundEvaluator;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.output.Grid;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.sampling.BatchSampler;
import dev.ddpmfarm.worker.sampling.ContinuousBatch;
import dev.ddpmfarm.worker.sampling.SampleState;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * A progressive-decoding job (paper §4.3, Figures 6–7): for every input image x_0 and every listed t, x_t drawn
 * from q(x_t | x_0), the model's x̂_0 from x_t, and {@code samplesPerTimestep} reconstructions x_0 ~ p_θ(x_0 | x_t):
 * the DDPM reverse process (σ² = β, all T steps) started at x_t. The reconstructions run in a continuous batch of
 * their own, one forward pass per step; x̂_0 is the clipped prediction of the first reverse step from x_t, the same
 * forward pass. Noise is keyed by (seed, key, t) with a key for x_t and one per reconstruction for every (image, t)
 * ({@link #noiseKey}), so the job is reproducible; it restarts from the beginning when redelivered.
 */
final class ProgressiveRun extends ImageRun {
    /** Where a reconstruction belongs: input image, position in the timestep list, reconstruction number. */
    private record Slot(int image, int timestep, int sample) {
    }

    private final ProgressiveRequest request;
    private final int[] shape;
    private final int timesteps;
    private final float[][] x0;
    private final float[][][] xt;
    private final float[][][] predX0;
    private final float[][][][] samples;
    private final ContinuousBatch<Slot> batch;
    private final long work;
    private long workDone;
    private int lastTimestep;

    ProgressiveRun(Task task, TopicPartition partition, long offset, Denoiser denoiser, GaussianDiffusion process,
                   float[][] x0, int maxBatch) {
        super(task, partition, offset);
        this.request = (ProgressiveRequest) task().request();
        this.shape = denoiser.imageShape();
        this.timesteps = process.timesteps();
        this.x0 = x0;
        int nt = request.timesteps().size();
        int perT = Math.max(1, request.samplesPerTimestep());
        this.xt = new float[x0.length][nt][];
        this.predX0 = new float[x0.length][nt][];
        this.samples = new float[x0.length][nt][request.samplesPerTimestep()][];
        BatchSampler sampler = new BatchSampler(denoiser);
        this.batch = new ContinuousBatch<>(sampler, maxBatch);
        Scheduler ddpm = Scheduler.create(process, Sampler.DDPM, process.timesteps(), VarianceType.BETA, 0);
        long seed = request.seed();
        long total = 0;
        for (int i = 0; i < x0.length; i++) {
            for (int j = 0; j < nt; j++) {
                int t = request.timesteps().get(j);
                if (t == 0) {
                    xt[i][j] = x0[i];
                    predX0[i][j] = x0[i];
                    for (int k = 0; k < request.samplesPerTimestep(); k++) {
                        samples[i][j][k] = x0[i];
                    }
                    continue;
                }
                xt[i][j] = process.qSample(x0[i], t - 1,
                        KeyedNoise.gaussian(seed, noiseKey(i, j, nt, perT, 0), t - 1, sampler.dims()));
                for (int k = 0; k < perT; k++) {
                    batch.add(new Slot(i, j, k), new SampleState(task().jobId(), noiseKey(i, j, nt, perT, k + 1), seed,
                            ddpm, Denoiser.NO_CLASS, 1, process.timesteps() - t, xt[i][j].clone()), 0);
                    total += request.samplesPerTimestep() == 0 ? 1 : t;
                }
            }
        }
        this.work = total;
    }

    /**
     * The noise key of image {@code i} at entry {@code j} of {@code nt} listed timesteps: {@code use} 0 draws x_t from
     * q(x_t | x_0), 1 … perT the reconstructions. Each use has its own key: the first reverse step from x_t draws its
     * noise at the same timestep as x_t's forward noise, so a shared key would reuse that ε (and x_{t−1} would not be a
     * draw from p_θ(x_{t−1} | x_t)).
     */
    static long noiseKey(int i, int j, int nt, int perT, int use) {
        return ((long) i * nt + j) * (perT + 1) + use;
    }

    @Override
    boolean done() {
        return batch.isEmpty();
    }

    @Override
    void step() {
        for (ContinuousBatch.Stepped<Slot> s : batch.step()) {
            Slot slot = s.owner();
            lastTimestep = s.result().timestep();
            workDone++;
            int t = request.timesteps().get(slot.timestep());
            if (s.result().step() == timesteps - t + 1 && slot.sample() == 0) {
                predX0[slot.image()][slot.timestep()] = s.result().predXStart();
            }
            if (request.samplesPerTimestep() == 0) {
                batch.remove(o -> o == slot);
            } else if (s.result().sample().done()) {
                samples[slot.image()][slot.timestep()][slot.sample()] = s.result().x();
            }
        }
    }

    @Override
    long workDone() {
        return workDone;
    }

    @Override
    long work() {
        return work;
    }

    /** None: a redelivered progressive job starts again (it is short). */
    @Override
    long resumedWork() {
        return 0;
    }

    @Override
    int imagesDone() {
        return done() ? x0.length : 0;
    }

    @Override
    int images() {
        return x0.length;
    }

    @Override
    int timestep() {
        return lastTimestep;
    }

    @Override
    byte[] checkpoint() {
        return null;
    }

    /** {@code progressive.json}: the RMSE on the [0, 255] scale of x̂_0 and of each reconstruction, per image and t. */
    record Report(int images, List<Integer> timesteps, int samplesPerTimestep, List<Row> rows) {
        record Row(int image, int t, double rmseX0, double[] rmseSamples) {
        }
    }

    @Override
    List<Output> outputs() {
        List<Output> out = new ArrayList<>();
        List<Report.Row> rows = new ArrayList<>();
        int nt = request.timesteps().size();
        int spt = request.samplesPerTimestep();
        for (int i = 0; i < x0.length; i++) {
            List<Uint8Image> grid = new ArrayList<>();
            for (int j = 0; j < nt; j++) {
                grid.add(image(xt[i][j]));
                grid.add(image(predX0[i][j]));
                double[] rmse = new double[spt];
                for (int k = 0; k < spt; k++) {
                    grid.add(image(samples[i][j][k]));
                    rmse[k] = BoundEvaluator.rmse255(samples[i][j][k], x0[i]);
                }
                grid.add(image(x0[i]));
                rows.add(new Report.Row(i, request.timesteps().get(j), BoundEvaluator.rmse255(predX0[i][j], x0[i]), rmse));
            }
            out.add(new Output(String.format("progressive/%03d.png", i), Png.encode(Grid.of(grid, spt + 3,
                    Grid.PADDING)), Png.MEDIA_TYPE));
        }
        out.add(new Output("progressive.json", Wire.toBytes(new Report(x0.length, request.timesteps(), spt, rows)),
                "application/json"));
        return out;
    }

    private Uint8Image image(float[] x) {
        return Uint8Image.fromModelScale(x, shape[0], shape[1], shape[2]);
    }
}

package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Guidance;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * A progressive-decoding job (paper §4.3, Figures 6–7): for every input image x_0 and every listed t, x_t drawn
 * from q(x_t | x_0), the model's x̂_0 from x_t, and {@code samplesPerTimestep} reconstructions x_0 ~ p_θ(x_0 | x_t):
 * the DDPM reverse process (σ² = β, all T steps) started at x_t. The reconstructions run in a continuous batch of
 * their own, one forward pass per step; x̂_0 is the clipped prediction of the first reverse step from x_t, the same
 * forward pass. Noise is keyed by (seed, key, t) with a key for x_t and one per reconstruction for every (image, t)
 * ({@link #noiseKey}), so the job is reproducible. Its checkpoint ({@link State}) holds the finished images and the
 * reconstructions under way, so a redelivered job goes on where it stood and stores the same files.
 */
final class ProgressiveRun extends ImageRun {
    /** Where a reconstruction belongs: input image, position in the timestep list, reconstruction number. */
    private record Slot(int image, int timestep, int sample) {
    }

    /** A finished image of the run (x̂_0 or a reconstruction) and its RMSE from x_0 on the [0, 255] scale. */
    private record Decoded(Uint8Image image, double rmse255) {
    }

    /**
     * What a redelivered run resumes from: its work done, the images finished so far ({@code sample} −1 for x̂_0) and
     * the reconstructions that have taken steps (position and x); the others start again at x_t, drawn anew from
     * their keys.
     */
    record State(long workDone, List<Finished> finished, List<Running> running) {
        record Finished(int image, int timestep, int sample, Uint8Image decoded, double rmse255) {
        }

        record Running(int image, int timestep, int sample, int position, float[] x) {
        }
    }

    private final ProgressiveRequest request;
    private final int[] shape;
    private final int timesteps;
    private final float[][] x0;
    private final Uint8Image[][] noisy;
    private final Decoded[][] predicted;
    private final Decoded[][][] samples;
    private final ContinuousBatch<Slot> batch;
    private final long work;
    private final long resumedWork;
    private long workDone;
    private int lastTimestep;

    ProgressiveRun(Task task, TopicPartition partition, long offset, Denoiser denoiser, GaussianDiffusion process,
                   float[][] x0, int maxBatch, byte[] checkpoint) {
        super(task, partition, offset);
        this.request = (ProgressiveRequest) task().request();
        this.shape = denoiser.imageShape();
        this.timesteps = process.timesteps();
        this.x0 = x0;
        int nt = request.timesteps().size();
        int spt = request.samplesPerTimestep();
        int perT = Math.max(1, spt);
        this.noisy = new Uint8Image[x0.length][nt];
        this.predicted = new Decoded[x0.length][nt];
        this.samples = new Decoded[x0.length][nt][spt];
        Map<Slot, State.Running> running = new HashMap<>();
        if (checkpoint != null) {
            State state = Wire.fromBytes(checkpoint, State.class);
            for (State.Finished f : state.finished()) {
                Decoded d = new Decoded(f.decoded(), f.rmse255());
                if (f.sample() < 0) {
                    predicted[f.image()][f.timestep()] = d;
                } else {
                    samples[f.image()][f.timestep()][f.sample()] = d;
                }
            }
            state.running().forEach(r -> running.put(new Slot(r.image(), r.timestep(), r.sample()), r));
            workDone = state.workDone();
        }
        this.resumedWork = workDone;
        BatchSampler sampler = new BatchSampler(denoiser);
        this.batch = new ContinuousBatch<>(sampler, maxBatch);
        Scheduler ddpm = Scheduler.create(process, Sampler.DDPM, process.timesteps(), VarianceType.BETA, 0);
        long seed = request.seed();
        long total = 0;
        for (int i = 0; i < x0.length; i++) {
            for (int j = 0; j < nt; j++) {
                int t = request.timesteps().get(j);
                if (t == 0) {
                    noisy[i][j] = image(x0[i]);
                    predicted[i][j] = decode(x0[i], i);
                    Arrays.fill(samples[i][j], predicted[i][j]);
                    continue;
                }
                float[] xt = process.qSample(x0[i], t - 1,
                        KeyedNoise.gaussian(seed, noiseKey(i, j, nt, perT, 0), t - 1, sampler.dims()));
                noisy[i][j] = image(xt);
                for (int k = 0; k < perT; k++) {
                    total += spt == 0 ? 1 : t;
                    if (spt == 0 ? predicted[i][j] != null : samples[i][j][k] != null) {
                        continue;
                    }
                    Slot slot = new Slot(i, j, k);
                    State.Running r = running.get(slot);
                    batch.add(slot, new SampleState(task().jobId(), noiseKey(i, j, nt, perT, k + 1), seed, ddpm,
                            Denoiser.NO_CLASS, Guidance.NONE, r == null ? firstStep(slot) : r.position(),
                            r == null ? xt.clone() : r.x()), 0);
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
            if (s.result().step() == firstStep(slot) + 1 && slot.sample() == 0) {
                predicted[slot.image()][slot.timestep()] = decode(s.result().predXStart(), slot.image());
            }
            if (request.samplesPerTimestep() == 0) {
                batch.remove(o -> o == slot);
            } else if (s.result().sample().done()) {
                samples[slot.image()][slot.timestep()][slot.sample()] = decode(s.result().x(), slot.image());
            }
        }
    }

    /** The position a reconstruction of {@code slot} starts from: the reverse steps above its t. */
    private int firstStep(Slot slot) {
        return timesteps - request.timesteps().get(slot.timestep());
    }

    @Override
    long workDone() {
        return workDone;
    }

    @Override
    long work() {
        return work;
    }

    @Override
    long resumedWork() {
        return resumedWork;
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
        List<State.Finished> finished = new ArrayList<>();
        for (int i = 0; i < x0.length; i++) {
            for (int j = 0; j < request.timesteps().size(); j++) {
                if (request.timesteps().get(j) == 0) {
                    continue;
                }
                if (predicted[i][j] != null) {
                    finished.add(new State.Finished(i, j, -1, predicted[i][j].image(), predicted[i][j].rmse255()));
                }
                for (int k = 0; k < samples[i][j].length; k++) {
                    Decoded d = samples[i][j][k];
                    if (d != null) {
                        finished.add(new State.Finished(i, j, k, d.image(), d.rmse255()));
                    }
                }
            }
        }
        List<State.Running> running = new ArrayList<>();
        for (ContinuousBatch.Entry<Slot> e : batch.entries()) {
            Slot slot = e.owner();
            if (e.state().position() > firstStep(slot)) {
                running.add(new State.Running(slot.image(), slot.timestep(), slot.sample(), e.state().position(),
                        e.state().x()));
            }
        }
        return Wire.toBytes(new State(workDone, finished, running));
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
                grid.add(noisy[i][j]);
                grid.add(predicted[i][j].image());
                double[] rmse = new double[spt];
                for (int k = 0; k < spt; k++) {
                    grid.add(samples[i][j][k].image());
                    rmse[k] = samples[i][j][k].rmse255();
                }
                grid.add(image(x0[i]));
                rows.add(new Report.Row(i, request.timesteps().get(j), predicted[i][j].rmse255(), rmse));
            }
            out.add(new Output(String.format("progressive/%03d.png", i), Png.encode(Grid.of(grid, spt + 3,
                    Grid.PADDING)), Png.MEDIA_TYPE));
        }
        out.add(new Output("progressive.json", Wire.toBytes(new Report(x0.length, request.timesteps(), spt, rows)),
                "application/json"));
        return out;
    }

    /** x as an image and its RMSE from input image {@code i}. */
    private Decoded decode(float[] x, int i) {
        return new Decoded(image(x), BoundEvaluator.rmse255(x, x0[i]));
    }

    private Uint8Image image(float[] x) {
        return Uint8Image.fromModelScale(x, shape[0], shape[1], shape[2]);
    }
}

package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.RateDistortion;
import dev.ddpmfarm.common.wire.RateDistortionRequest;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.common.wire.TimestepSelection;
import dev.ddpmfarm.common.wire.Wire;
import dev.ddpmfarm.worker.eval.BoundEvaluator;
import dev.ddpmfarm.worker.model.LoadedModel;
import dev.ddpmfarm.worker.output.RateDistortionPlot;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * A rate-distortion job (paper §4.3): the variational bound of the model on the input images, term by term, one
 * forward pass (a batch of images at one timestep) per step, with x_t drawn from q(x_t | x_0) by noise keyed by
 * (seed, image, t). Every timestep is evaluated whatever the selection, since the rate at t sums every term above
 * it; the selection only picks the rows of {@code rd.json}. Its sums are its checkpoint, so a redelivered job goes
 * on where it stood.
 */
final class RateDistortionRun extends ImageRun {
    private final int timesteps;
    private final BoundEvaluator.Run run;
    private final long resumedWork;

    RateDistortionRun(Task task, TopicPartition partition, long offset, LoadedModel model, float[][] x0, int batch,
                      byte[] checkpoint) {
        super(task, partition, offset);
        this.timesteps = model.process().timesteps();
        this.run = new BoundEvaluator(model.denoiser(), model.process(), VarianceType.BETA)
                .start(x0, task().request().seed(), batch);
        if (checkpoint != null) {
            run.resume(Wire.fromBytes(checkpoint, BoundEvaluator.Run.State.class));
        }
        this.resumedWork = run.passesDone();
    }

    private RateDistortionRequest request() {
        return (RateDistortionRequest) task().request();
    }

    @Override
    boolean done() {
        return run.done();
    }

    @Override
    void step() {
        run.step();
    }

    @Override
    long workDone() {
        return run.passesDone();
    }

    @Override
    long work() {
        return run.passes();
    }

    @Override
    long resumedWork() {
        return resumedWork;
    }

    @Override
    int imagesDone() {
        return run.imagesDone();
    }

    @Override
    int images() {
        return request().input().size();
    }

    @Override
    int timestep() {
        return run.state().nextT() + 1;
    }

    @Override
    byte[] checkpoint() {
        return Wire.toBytes(run.state());
    }

    @Override
    List<Output> outputs() {
        BoundEvaluator.Result r = run.result();
        RateDistortion rd = RateDistortion.of(r.priorBitsPerDim(), r.termBitsPerDim(), r.rmse255(), r.images(),
                request().timesteps());
        RateDistortion all = RateDistortion.of(r.priorBitsPerDim(), r.termBitsPerDim(), r.rmse255(), r.images(),
                TimestepSelection.ALL);
        int[] t = all.rows().stream().mapToInt(RateDistortion.Row::t).toArray();
        return List.of(
                new Output(ObjectKeys.RD_JSON, Wire.toBytes(rd), "application/json"),
                new Output(ObjectKeys.RD_CSV, rd.csv(timesteps).getBytes(StandardCharsets.UTF_8), "text/csv"),
                new Output(ObjectKeys.RD_PNG, RateDistortionPlot.png(t,
                        all.rows().stream().mapToDouble(RateDistortion.Row::rateBitsPerDim).toArray(),
                        all.rows().stream().mapToDouble(RateDistortion.Row::rmse255).toArray(), timesteps),
                        "image/png"));
    }
}

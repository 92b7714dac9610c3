package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.wire.GenerateRequest;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.sampling.StepResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * One task of a generate job on this worker: the record it came from, the current state of each of its samples, and
 * the frames being gathered. Its samples step inside the worker's shared continuous batch; this class only keeps
 * the books.
 * <p>
 * Frames show the task's first {@link #PREVIEW} samples (SPEC §4): when every one of them has taken step k, with k a
 * multiple of {@code checkpointEvery} or the last step, the frame of step k is complete. Preview samples may sit at
 * different steps when the batch is small, so a frame collects its rows as they arrive. Frames complete in step
 * order, and no frame at or before the last one completed is gathered again: a preview sample drawn again for
 * {@code minConfidence} passes those steps alone, and after a resume from a checkpoint the rows of the steps some
 * preview samples had already passed are gone.
 */
final class TaskRun {
    /** Samples shown in a frame. */
    static final int PREVIEW = 64;

    /** The x_t and x̂_0 of the preview samples after {@code step} steps, x_t at paper timestep {@code t}. */
    record Frame(int step, int t, float[][] xt, float[][] x0) {
    }

    private final Task task;
    private final TopicPartition partition;
    private final long offset;
    private final Scheduler scheduler;
    private final SampleState[] states;
    private final int[] draws;
    private final List<Integer> toVet = new ArrayList<>();
    private int redrawn;
    private int unconfident;
    private final int previewCount;
    private final Map<Integer, Frame> gathering = new HashMap<>();
    private final Map<Integer, Integer> gathered = new HashMap<>();
    private int lastFrameStep;
    private final long resumedSteps;
    private int finished;
    private long stepsTaken;
    final Reporting reporting = new Reporting();

    private TaskRun(Task task, TopicPartition partition, long offset, Scheduler scheduler, SampleState[] states,
                    int[] draws, int unconfident) {
        this.task = task;
        this.partition = partition;
        this.offset = offset;
        this.scheduler = scheduler;
        this.states = states;
        this.draws = draws;
        this.redrawn = Arrays.stream(draws).sum();
        this.unconfident = unconfident;
        this.previewCount = Math.min(PREVIEW, states.length);
        for (SampleState s : states) {
            stepsTaken += s.position();
            finished += s.done() ? 1 : 0;
        }
        this.resumedSteps = stepsTaken;
        this.lastFrameStep = Arrays.stream(states, 0, previewCount).mapToInt(SampleState::position).max().orElse(0);
    }

    /**
     * The task's samples at x_T, or where {@code checkpoint} left them when it belongs to this task.
     *
     * @param process the diffusion process of the job's model
     * @param dims    C·H·W of the model's images
     */
    static TaskRun start(Task task, TopicPartition partition, long offset, GaussianDiffusion process, int dims,
                         Checkpoint checkpoint) {
        GenerateRequest r = (GenerateRequest) task.request();
        Scheduler scheduler = Scheduler.create(process, r.sampler(), r.steps(), r.variance(), r.eta());
        SampleState[] states = new SampleState[task.size()];
        boolean resume = checkpoint != null && checkpoint.matches(task, scheduler.steps())
                && checkpoint.x().length == task.size() * dims;
        int[] draws = resume ? checkpoint.draws().clone() : new int[states.length];
        for (int i = 0; i < states.length; i++) {
            long index = task.start() + i;
            Integer requested = r.classOf(index);
            int label = requested == null ? Denoiser.NO_CLASS : requested;
            long seed = GenerateRequest.drawSeed(r.seed(), draws[i]);
            states[i] = resume
                    ? new SampleState(task.jobId(), index, seed, scheduler, label, r.guidancePlan(),
                    checkpoint.positions()[i], Arrays.copyOfRange(checkpoint.x(), i * dims, (i + 1) * dims))
                    : SampleState.start(task.jobId(), index, seed, scheduler, label, r.guidancePlan(), dims);
        }
        return new TaskRun(task, partition, offset, scheduler, states, draws, resume ? checkpoint.unconfident() : 0);
    }

    Task task() {
        return task;
    }

    GenerateRequest request() {
        return (GenerateRequest) task.request();
    }

    TopicPartition partition() {
        return partition;
    }

    long offset() {
        return offset;
    }

    /** Reverse steps per sample. */
    int steps() {
        return scheduler.steps();
    }

    /** Sample-steps this task started with (non-zero when it resumed from a checkpoint). */
    long resumedSteps() {
        return resumedSteps;
    }

    /** The samples that still have steps to take. */
    List<SampleState> unfinished() {
        return Arrays.stream(states).filter(s -> !s.done()).toList();
    }

    /** The current state of every sample, in index order. */
    List<SampleState> states() {
        return List.of(states);
    }

    int finishedSamples() {
        return finished;
    }

    boolean done() {
        return finished == states.length;
    }

    /** Mean reverse steps taken per sample, 0 … steps. */
    int meanStep() {
        return (int) (stepsTaken / states.length);
    }

    /** The paper timestep of x after {@code step} steps (0 once all are taken). */
    int timestepAfter(int step) {
        return step >= scheduler.steps() ? 0 : scheduler.modelTimestep(scheduler.steps() - 1 - step) + 1;
    }

    /**
     * Records one step of one of this task's samples.
     *
     * @return the frame this step completed, or null
     */
    Frame record(StepResult result) {
        SampleState next = result.sample();
        int i = (int) (next.index() - task.start());
        states[i] = next;
        stepsTaken++;
        if (next.done()) {
            finished++;
            if (request().minConfidence() != null) {
                toVet.add(i);
            }
        }
        int step = next.position();
        int every = request().checkpointEvery();
        if (i >= previewCount || step <= lastFrameStep
                || !(step == scheduler.steps() || (every > 0 && step % every == 0))) {
            return null;
        }
        Frame frame = gathering.computeIfAbsent(step, k ->
                new Frame(k, timestepAfter(k), new float[previewCount][], new float[previewCount][]));
        // a preview sample drawn again for minConfidence passes the same steps again: it replaces its row
        int rows = frame.xt()[i] == null ? gathered.merge(step, 1, Integer::sum) : gathered.get(step);
        frame.xt()[i] = next.x();
        frame.x0()[i] = result.predXStart();
        if (rows < previewCount) {
            return null;
        }
        gathering.remove(step);
        gathered.remove(step);
        lastFrameStep = step;
        return frame;
    }

    /** Frames with some rows gathered, waiting for the others. */
    int framesGathering() {
        return gathering.size();
    }

    /** Each sample's draw (see {@link GenerateRequest#drawSeed}), in index order. */
    int[] draws() {
        return draws.clone();
    }

    /** The samples finished since the last call that {@code minConfidence} has yet to judge. */
    List<SampleState> takeToVet() {
        List<SampleState> out = toVet.stream().map(i -> states[i]).toList();
        toVet.clear();
        return out;
    }

    /**
     * Starts finished sample {@code s} again from x_T with its next draw's seed, when it has redraws left; else it is
     * kept as it is.
     *
     * @return its new state, or null when it is kept
     */
    SampleState redraw(SampleState s) {
        int i = (int) (s.index() - task.start());
        if (draws[i] >= GenerateRequest.MAX_REDRAWS) {
            unconfident++;
            return null;
        }
        draws[i]++;
        redrawn++;
        finished--;
        stepsTaken -= s.position();
        states[i] = SampleState.start(task.jobId(), s.index(), GenerateRequest.drawSeed(request().seed(), draws[i]),
                scheduler, s.classLabel(), s.guidance(), s.x().length);
        return states[i];
    }

    /** Samples drawn again for {@code minConfidence}, and those kept below it after the last redraw. */
    int[] redraws() {
        return new int[] {redrawn, unconfident};
    }

    /** The global indices of the finished samples with their x_0. */
    List<SampleState> finishedStates() {
        List<SampleState> out = new ArrayList<>();
        for (SampleState s : states) {
            if (s.done()) {
                out.add(s);
            }
        }
        return out;
    }
}

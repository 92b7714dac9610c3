package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.sampling.StepResult;
import dev.ddpmfarm.worker.testing.Tasks;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TaskRunTest {

    /** Sample s one step on, its x unchanged and its x̂_0 = −x (a stand-in that tells the two apart). */
    private static StepResult stepped(SampleState s) {
        float[] x0 = s.x().clone();
        for (int i = 0; i < x0.length; i++) {
            x0[i] = -x0[i];
        }
        return new StepResult(new SampleState(s.job(), s.index(), s.seed(), s.scheduler(), s.classLabel(), s.guidance(),
                s.position() + 1, s.x()), 0, x0);
    }

    @Test
    @DisplayName("a preview sample drawn again for minConfidence replaces its row of a frame, never completes it alone")
    void redrawnPreviewSampleKeepsFramesWhole() {
        TaskRun run = TaskRun.start(Tasks.minConfidence(2, 2, 1), null, 0, GaussianDiffusion.of(BetaSchedule.LINEAR, 1000), 4, null);
        SampleState first = run.states().get(0);
        SampleState second = run.states().get(1);

        StepResult step1 = stepped(first);
        assertNull(run.record(step1), "frame 1 waits for sample 1");
        StepResult done = stepped(step1.sample());
        assertNull(run.record(done));
        SampleState again = run.redraw(run.takeToVet().get(0));
        assertNotNull(again, "drawn again");
        assertNull(run.record(stepped(again)), "sample 0 passing step 1 again does not complete frame 1");
        TaskRun.Frame frame = run.record(stepped(second));
        assertNotNull(frame, "sample 1 completes frame 1");
        Arrays.stream(frame.xt()).forEach(row -> assertNotNull(row, "a row of the frame is missing"));
    }

    @Test
    @DisplayName("a frame that only some preview samples had reached is completed by the others after a resume")
    void partialFrameSurvivesTheCheckpoint() throws IOException {
        Task task = Tasks.minConfidence(2, 2, 1);
        GaussianDiffusion process = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);
        TaskRun run = TaskRun.start(task, null, 0, process, 4, null);
        StepResult first = stepped(run.states().get(0));
        assertNull(run.record(first), "frame 1 waits for sample 1");

        int[] shape = {1, 2, 2};
        Checkpoint saved = Checkpoint.of(task, run.steps(), run.states(), run.draws(), 0, run.partialFrames(), shape);
        TaskRun resumed = TaskRun.start(task, null, 0, process, 4, Checkpoint.decode(saved.encode(shape), "state"));
        TaskRun.Frame frame = resumed.record(stepped(resumed.states().get(1)));
        assertNotNull(frame, "sample 1 completes frame 1 after the resume");
        assertEquals(run.timestepAfter(1), frame.t());
        assertArrayEquals(first.sample().x(), frame.xt()[0], "sample 0's row from before the checkpoint");
        assertArrayEquals(first.predXStart(), frame.x0()[0]);
    }
}

package dev.ddpmfarm.worker.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ddpmfarm.common.diffusion.BetaSchedule;
import dev.ddpmfarm.common.diffusion.GaussianDiffusion;
import dev.ddpmfarm.common.wire.Task;
import dev.ddpmfarm.worker.sampling.SampleState;
import dev.ddpmfarm.worker.sampling.StepResult;
import dev.ddpmfarm.worker.testing.Tasks;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TaskRunTest {

    private static StepResult stepped(SampleState s) {
        return new StepResult(new SampleState(s.job(), s.index(), s.seed(), s.scheduler(), s.classLabel(), s.guidance(),
                s.position() + 1, s.x()), 0, s.x());
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
    @DisplayName("no frame is gathered again at or before the last one completed: after a redraw, after a resume")
    void framesAlreadyPassedAreNotGathered() {
        Task task = Tasks.minConfidence(2, 2, 1);
        GaussianDiffusion process = GaussianDiffusion.of(BetaSchedule.LINEAR, 1000);
        TaskRun run = TaskRun.start(task, null, 0, process, 4, null);
        for (int step = 1; step <= 2; step++) {
            assertNull(run.record(stepped(run.states().get(0))));
            assertNotNull(run.record(stepped(run.states().get(1))), "frame " + step);
        }
        SampleState again = run.redraw(run.takeToVet().get(0));
        assertNull(run.record(stepped(again)));
        assertEquals(0, run.framesGathering(), "frame 1 was sent: sample 0 passing step 1 again opens no frame");

        Checkpoint saved = new Checkpoint(task.jobId(), 0, 0, 2, new int[] {1, 0}, new int[2], 0, new float[8]);
        TaskRun resumed = TaskRun.start(task, null, 0, process, 4, saved);
        assertNull(resumed.record(stepped(resumed.states().get(1))));
        assertEquals(0, resumed.framesGathering(), "sample 0 passed step 1 before the checkpoint: frame 1 is lost");
        assertNull(resumed.record(stepped(resumed.states().get(0))));
        assertNotNull(resumed.record(stepped(resumed.states().get(1))), "frame 2");
    }
}

package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.wire.Task;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * A job over input images (progressive decoding, rate-distortion) on this worker. Unlike generation it does not
 * join the continuous batch: it takes its own forward passes, one per turn of the loop, so generation tasks and
 * other image jobs go on in between and a cancellation is seen within one pass.
 */
abstract class ImageRun {
    /** A result file: its path under the job's prefix, bytes and media type. */
    record Output(String path, byte[] data, String mediaType) {
    }

    private final Task task;
    private final TopicPartition partition;
    private final long offset;
    private final Reporting reporting = new Reporting();

    /** A run of {@code task}, delivered at {@code offset} of {@code partition}. */
    ImageRun(Task task, TopicPartition partition, long offset) {
        this.task = task;
        this.partition = partition;
        this.offset = offset;
    }

    final Task task() {
        return task;
    }

    /** When this run last reported. */
    final Reporting reporting() {
        return reporting;
    }

    final TopicPartition partition() {
        return partition;
    }

    final long offset() {
        return offset;
    }

    abstract boolean done();

    /** One forward pass. */
    abstract void step();

    /** Work done and in all, in the run's own unit (forward passes or sample-steps). */
    abstract long workDone();

    abstract long work();

    /** The work a checkpoint had saved when this run started (0 when it started from the beginning). */
    abstract long resumedWork();

    /** Input images finished. */
    abstract int imagesDone();

    abstract int images();

    /** The timestep the run works on now (paper notation), for progress events. */
    abstract int timestep();

    /** A snapshot to resume from after a redelivery, or null when this run cannot resume. */
    abstract byte[] checkpoint();

    /** The result files, once {@link #done}. */
    abstract List<Output> outputs();
}

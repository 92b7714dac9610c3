package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.wire.Task;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * A job over input images (progressive decoding, rate-distortion) on this worker. Unlike generation it does not
 * join the continuous batch: it takes its own forward passes, one per turn of the loop, so generation tasks and
 * other image jobs go on in between and a cancellation is seen within one pass.
 */
interface ImageRun {
    /** A result file: its path under the job's prefix, bytes and media type. */
    record Output(String path, byte[] data, String mediaType) {
    }

    Task task();

    /** When this run last reported. */
    Reporting reporting();

    TopicPartition partition();

    long offset();

    boolean done();

    /** One forward pass. */
    void step();

    /** Work done and in all, in the run's own unit (forward passes or sample-steps). */
    long workDone();

    long work();

    /** Input images finished. */
    int imagesDone();

    int images();

    /** The timestep the run works on now (paper notation), for progress events. */
    int timestep();

    /** A snapshot to resume from after a redelivery, or null when this run cannot resume. */
    byte[] checkpoint();

    /** The result files, once {@link #done}. */
    List<Output> outputs();
}

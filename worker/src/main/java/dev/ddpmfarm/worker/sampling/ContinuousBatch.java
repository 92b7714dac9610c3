package dev.ddpmfarm.worker.sampling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Predicate;

/**
 * A continuous batch: samples join at any time, each forward pass serves every admitted sample whatever its job,
 * timestep or sampler, and a sample leaves the moment its last step is taken. Before each step, waiting samples are
 * admitted in order of priority (higher first), then of arrival, while they fit in {@code maxRows} forward rows (each
 * holds the rows of its most expensive remaining step, {@link SampleState#peakRows}, so a sample guided later keeps
 * room for it and one whose guided steps are behind it gives a row back); an empty batch always admits one, so a
 * guided sample runs even when {@code maxRows} is 1.
 *
 * @param <T> what the caller attaches to each sample to route its results (its task, its position in a list)
 */
public final class ContinuousBatch<T> {
    /** A sample with its owner. */
    public record Entry<T>(T owner, SampleState state) {
    }

    /** The outcome of one step for one sample; its state has left the batch when {@code result.sample().done()}. */
    public record Stepped<T>(T owner, StepResult result) {
    }

    private record Waiting<T>(Entry<T> entry, int priority, long arrival) {
    }

    private final BatchSampler sampler;
    private final int maxRows;
    private final PriorityQueue<Waiting<T>> waiting = new PriorityQueue<>(
            Comparator.<Waiting<T>>comparingInt(w -> -w.priority()).thenComparingLong(Waiting::arrival));
    private final List<Entry<T>> active = new ArrayList<>();
    private int rows;
    private long arrivals;

    public ContinuousBatch(BatchSampler sampler, int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        this.sampler = sampler;
        this.maxRows = maxRows;
    }

    /** Queues a sample that has steps left; it joins the batch at the next step it fits in. */
    public void add(T owner, SampleState state, int priority) {
        if (state.done()) {
            throw new IllegalArgumentException("sample " + state.index() + " of job " + state.job() + " is done");
        }
        waiting.add(new Waiting<>(new Entry<>(owner, state), priority, arrivals++));
    }

    /** Removes every sample, waiting or admitted, whose owner matches; returns them with their current states. */
    public List<Entry<T>> remove(Predicate<T> owner) {
        List<Entry<T>> removed = new ArrayList<>();
        for (Iterator<Waiting<T>> it = waiting.iterator(); it.hasNext(); ) {
            Waiting<T> w = it.next();
            if (owner.test(w.entry().owner())) {
                removed.add(w.entry());
                it.remove();
            }
        }
        for (Iterator<Entry<T>> it = active.iterator(); it.hasNext(); ) {
            Entry<T> e = it.next();
            if (owner.test(e.owner())) {
                removed.add(e);
                rows -= e.state().peakRows();
                it.remove();
            }
        }
        return removed;
    }

    /** Every sample, admitted or waiting, with its current state. */
    public List<Entry<T>> entries() {
        List<Entry<T>> all = new ArrayList<>(active);
        waiting.forEach(w -> all.add(w.entry()));
        return all;
    }

    /** Whether no sample is waiting or admitted. */
    public boolean isEmpty() {
        return waiting.isEmpty() && active.isEmpty();
    }

    /** Samples waiting to be admitted. */
    public int waitingCount() {
        return waiting.size();
    }

    /**
     * Admits what fits, then takes one reverse step for every admitted sample with one forward pass of the denoiser.
     *
     * @return one result per admitted sample; the finished ones have left the batch
     */
    public List<Stepped<T>> step() {
        while (!waiting.isEmpty()
                && (active.isEmpty() || rows + waiting.peek().entry().state().peakRows() <= maxRows)) {
            Entry<T> e = waiting.poll().entry();
            active.add(e);
            rows += e.state().peakRows();
        }
        if (active.isEmpty()) {
            return List.of();
        }
        List<StepResult> results = sampler.step(active.stream().map(Entry::state).toList());
        List<Stepped<T>> out = new ArrayList<>(results.size());
        List<Entry<T>> next = new ArrayList<>(active.size());
        for (int i = 0; i < results.size(); i++) {
            T owner = active.get(i).owner();
            StepResult r = results.get(i);
            out.add(new Stepped<>(owner, r));
            rows -= active.get(i).state().peakRows();
            if (!r.sample().done()) {
                rows += r.sample().peakRows();
                next.add(new Entry<>(owner, r.sample()));
            }
        }
        active.clear();
        active.addAll(next);
        return out;
    }
}

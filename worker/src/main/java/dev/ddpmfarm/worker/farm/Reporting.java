package dev.ddpmfarm.worker.farm;

/** When a running task last told the farm about itself: its first status, its progress, its checkpoint. */
final class Reporting {
    boolean announced;
    long lastProgressNanos;
    long lastCheckpointNanos = System.nanoTime();
}

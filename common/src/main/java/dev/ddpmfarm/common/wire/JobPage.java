package dev.ddpmfarm.common.wire;

import java.util.List;

/**
 * One page of {@code GET /v1/jobs}: the tenant's jobs, newest first.
 *
 * @param jobs       the documents of this page
 * @param nextCursor pass as {@code cursor} to get the next page; null on the last page
 */
public record JobPage(List<JobDocument> jobs, String nextCursor) {
    public JobPage {
        jobs = List.copyOf(jobs);
    }
}

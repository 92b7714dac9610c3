package dev.ddpmfarm.clients.kafka;

import dev.ddpmfarm.common.wire.Topics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the topics of SPEC §5 ({@link Topics#ALL}) and places a job's shards on partitions. */
public final class FarmTopics {
    private static final Logger LOG = LoggerFactory.getLogger(FarmTopics.class);

    private FarmTopics() {
    }

    /**
     * Creates every topic of {@link Topics#ALL} that does not exist yet; existing ones are left as they are.
     *
     * @return the names of the topics created
     */
    public static List<String> ensure(Admin admin, int replication) throws InterruptedException {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = Topics.ALL.stream().filter(t -> !existing.contains(t.name()))
                    .map(t -> new NewTopic(t.name(), t.partitions(), (short) replication)
                            .configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(t.retention().toMillis()))))
                    .toList();
            if (missing.isEmpty()) {
                return List.of();
            }
            try {
                admin.createTopics(missing).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            List<String> created = missing.stream().map(NewTopic::name).toList();
            LOG.info("created topics {} (replication {})", created, replication);
            return created;
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create the farm's topics: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    /**
     * The partition of {@code farm.jobs.v1} for shard {@code shard} of job {@code jobId}: the key's default
     * partition (murmur2 of the key, as Kafka's partitioner computes it) plus the shard index, so a job keeps its
     * key and its shards still spread over all partitions, hence over all workers.
     */
    public static int partitionForShard(String jobId, int shard, int partitions) {
        int base = Utils.toPositive(Utils.murmur2(jobId.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                % partitions;
        return (base + shard) % partitions;
    }
}

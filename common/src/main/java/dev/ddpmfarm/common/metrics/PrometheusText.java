package dev.ddpmfarm.common.metrics;

/**
 * Writes operational metrics in the Prometheus text exposition format (version 0.0.4): one {@code # HELP} and
 * {@code # TYPE} line per metric, then its samples. What the gateway and the workers serve on {@code GET /metrics}.
 */
public final class PrometheusText {
    private final StringBuilder out = new StringBuilder();

    public PrometheusText gauge(String name, String help, double value) {
        return metric(name, help, "gauge", value);
    }

    public PrometheusText counter(String name, String help, double value) {
        return metric(name, help, "counter", value);
    }

    /** The header of a metric whose samples follow through {@link #sample}. */
    public PrometheusText header(String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample; {@code labels} is the text between the braces, e.g. {@code status="running"}, or empty. */
    public PrometheusText sample(String name, String labels, double value) {
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ');
        if (value == Math.rint(value) && !Double.isInfinite(value)) {
            out.append((long) value);
        } else {
            out.append(value);
        }
        out.append('\n');
        return this;
    }

    private PrometheusText metric(String name, String help, String type, double value) {
        return header(name, help, type).sample(name, "", value);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}

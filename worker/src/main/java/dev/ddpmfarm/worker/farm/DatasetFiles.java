package dev.ddpmfarm.worker.farm;

import dev.ddpmfarm.common.data.IdxArray;
import dev.ddpmfarm.common.wire.ObjectKeys;
import dev.ddpmfarm.common.wire.OutputFormat;
import dev.ddpmfarm.worker.output.Grid;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The whole-job files of a generate job (SPEC §6, and the dataset formats people train classifiers on), made from its
 * samples in index order and their labels: {@code samples.npy} and {@code labels.npy}, {@code grid.png}, the
 * Fashion-MNIST IDX pair, {@code labels.csv}, and {@code imagefolder.zip} (one folder per class). A job of one task
 * writes them from memory; a sharded job's tasks each store their {@link Part} and the task that finds every shard
 * finished joins the parts.
 */
final class DatasetFiles {
    static final String IMAGES_IDX = "images-idx3-ubyte";
    static final String LABELS_IDX = "labels-idx1-ubyte";
    static final String LABELS_NPY = "labels.npy";
    static final String IMAGEFOLDER_ZIP = "imagefolder.zip";
    private static final String CSV_HEADER = "index,seed,class,predicted,confidence";
    private static final String ZIP_MEDIA_TYPE = "application/zip";
    private static final int GRID_COLUMNS_PER_CLASS = 16;

    private DatasetFiles() {
    }

    /**
     * One sample's labels: the requested class (null for an unconditional job), and the class the model's classifier
     * sees with its confidence (null without a classifier).
     */
    record Row(long index, long seed, Integer requested, Integer predicted, Double confidence) {
        /** The dataset label: the requested class, else the classifier's; null when neither is known. */
        Integer label() {
            return requested != null ? requested : predicted;
        }
    }

    /**
     * Consecutive samples of a job with their rows (empty when the job's outputs need no labels).
     */
    record Part(List<Uint8Image> images, List<Row> rows) {
        /** The parts one after another. */
        static Part concat(List<Part> parts) {
            List<Uint8Image> images = new ArrayList<>();
            List<Row> rows = new ArrayList<>();
            for (Part p : parts) {
                images.addAll(p.images());
                rows.addAll(p.rows());
            }
            return new Part(images, rows);
        }

        /** Reads a part stored by {@link #store}: its {@code samples.npy} and, when stored, {@code labels.csv}. */
        static Part read(byte[] npy, byte[] csv) throws IOException {
            return new Part(Npy.readUint8(npy).images(),
                    csv == null ? List.of() : parseCsv(new String(csv, StandardCharsets.UTF_8)));
        }

        /** The files a task of a sharded job stores for the join: {@code samples.npy}, and the rows as csv. */
        List<ImageRun.Output> store(String dir) {
            List<ImageRun.Output> out = new ArrayList<>();
            out.add(new ImageRun.Output(dir + ObjectKeys.SAMPLES_NPY, Npy.images(images).encode(), Npy.MEDIA_TYPE));
            if (!rows.isEmpty()) {
                out.add(new ImageRun.Output(dir + ObjectKeys.LABELS_CSV, csv(rows), "text/csv"));
            }
            return out;
        }
    }

    /** Whether a job with these outputs needs a per-sample label row. */
    static boolean labelled(List<OutputFormat> outputs) {
        return outputs.contains(OutputFormat.IDX) || outputs.contains(OutputFormat.LABELS)
                || outputs.contains(OutputFormat.IMAGEFOLDER);
    }

    /** Whether the job has whole-job files besides its sample PNGs. */
    static boolean any(List<OutputFormat> outputs) {
        return outputs.stream().anyMatch(o -> o != OutputFormat.PNG);
    }

    /**
     * Makes the requested whole-job files of {@code all} samples of the job one at a time and hands each to
     * {@code sink} before the next is made: a joined million-image dataset holds one file (up to its 784 MB
     * {@code samples.npy}) beside its images at a time, not all of them.
     */
    static void encode(Part all, List<OutputFormat> outputs, int gridMax, Consumer<ImageRun.Output> sink) {
        List<Uint8Image> images = all.images();
        int[] labels = all.rows().isEmpty() ? null : labels(all.rows(), outputs);
        if (outputs.contains(OutputFormat.NPY)) {
            sink.accept(new ImageRun.Output(ObjectKeys.SAMPLES_NPY, Npy.images(images).encode(), Npy.MEDIA_TYPE));
            if (labels != null) {
                sink.accept(new ImageRun.Output(LABELS_NPY, Npy.int64(labels), Npy.MEDIA_TYPE));
            }
        }
        if (outputs.contains(OutputFormat.GRID)) {
            sink.accept(new ImageRun.Output(ObjectKeys.GRID, Png.encode(grid(all, gridMax)), Png.MEDIA_TYPE));
        }
        if (outputs.contains(OutputFormat.IDX)) {
            Uint8Image first = images.get(0);
            int size = first.pixels().length;
            byte[] pixels = new byte[images.size() * size];
            byte[] labelBytes = new byte[images.size()];
            for (int i = 0; i < images.size(); i++) {
                System.arraycopy(images.get(i).pixels(), 0, pixels, i * size, size);
                labelBytes[i] = (byte) labels[i];
            }
            sink.accept(new ImageRun.Output(IMAGES_IDX,
                    idx(new IdxArray(new int[] {images.size(), first.height(), first.width()}, pixels)),
                    Npy.MEDIA_TYPE));
            sink.accept(new ImageRun.Output(LABELS_IDX, idx(new IdxArray(new int[] {images.size()}, labelBytes)),
                    Npy.MEDIA_TYPE));
        }
        if (outputs.contains(OutputFormat.LABELS)) {
            sink.accept(new ImageRun.Output(ObjectKeys.LABELS_CSV, csv(all.rows()), "text/csv"));
        }
        if (outputs.contains(OutputFormat.IMAGEFOLDER)) {
            sink.accept(new ImageRun.Output(IMAGEFOLDER_ZIP, imageFolder(all, labels), ZIP_MEDIA_TYPE));
        }
    }

    /**
     * The overview image: for samples of several requested classes one row per class (its first samples, at most
     * {@link #GRID_COLUMNS_PER_CLASS}), else the first {@code gridMax} samples.
     */
    private static Uint8Image grid(Part all, int gridMax) {
        Map<Integer, List<Uint8Image>> byClass = new TreeMap<>();
        for (int i = 0; i < all.rows().size() && all.rows().get(i).requested() != null; i++) {
            byClass.computeIfAbsent(all.rows().get(i).requested(), c -> new ArrayList<>()).add(all.images().get(i));
        }
        if (byClass.size() < 2 || byClass.values().stream().mapToInt(List::size).sum() < all.images().size()) {
            return Grid.of(all.images().subList(0, Math.min(gridMax, all.images().size())));
        }
        int cols = Math.min(GRID_COLUMNS_PER_CLASS, byClass.values().stream().mapToInt(List::size).min().orElse(1));
        List<Uint8Image> tiles = new ArrayList<>();
        byClass.values().forEach(images -> tiles.addAll(images.subList(0, cols)));
        return Grid.of(tiles, cols, Grid.PADDING);
    }

    /**
     * The label of every row; a format that needs labels fails when a row has none (an unconditional job of a model
     * without a classifier).
     */
    private static int[] labels(List<Row> rows, List<OutputFormat> outputs) {
        int[] labels = new int[rows.size()];
        for (int i = 0; i < labels.length; i++) {
            Integer label = rows.get(i).label();
            if (label == null) {
                if (outputs.contains(OutputFormat.IDX) || outputs.contains(OutputFormat.IMAGEFOLDER)) {
                    throw new IllegalStateException("the idx and imagefolder outputs of an unconditional job need the"
                            + " model's classifier to label the samples");
                }
                return null;
            }
            labels[i] = label;
        }
        return labels;
    }

    /** {@code {label}/{index:06d}.png} for every sample; folder names padded to one width so they sort by label. */
    private static byte[] imageFolder(Part all, int[] labels) {
        int width = Integer.toString(Arrays.stream(labels).max().orElse(0)).length();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setLevel(Deflater.BEST_SPEED);
            for (int i = 0; i < labels.length; i++) {
                String folder = String.format(Locale.ROOT, "%0" + width + "d", labels[i]);
                zip.putNextEntry(new ZipEntry(folder + "/" + ObjectKeys.sample((int) all.rows().get(i).index())
                        .substring("samples/".length())));
                zip.write(Png.encode(all.images().get(i)));
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] csv(List<Row> rows) {
        StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
        for (Row r : rows) {
            csv.append(r.index()).append(',').append(r.seed()).append(',')
                    .append(r.requested() == null ? "" : r.requested()).append(',')
                    .append(r.predicted() == null ? "" : r.predicted()).append(',')
                    .append(r.confidence() == null ? "" : String.format(Locale.ROOT, "%.4f", r.confidence()))
                    .append('\n');
        }
        return csv.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<Row> parseCsv(String csv) throws IOException {
        String[] lines = csv.split("\n");
        if (lines.length == 0 || !lines[0].equals(CSV_HEADER)) {
            throw new IOException("labels.csv does not start with " + CSV_HEADER);
        }
        List<Row> rows = new ArrayList<>(lines.length - 1);
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",", -1);
            if (f.length != 5) {
                throw new IOException("labels.csv line " + (i + 1) + " has " + f.length + " fields, expected 5");
            }
            try {
                rows.add(new Row(Long.parseLong(f[0]), Long.parseLong(f[1]),
                        f[2].isEmpty() ? null : Integer.valueOf(f[2]), f[3].isEmpty() ? null : Integer.valueOf(f[3]),
                        f[4].isEmpty() ? null : Double.valueOf(f[4])));
            } catch (NumberFormatException e) {
                throw new IOException("labels.csv line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }

    private static byte[] idx(IdxArray array) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            array.write(out, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

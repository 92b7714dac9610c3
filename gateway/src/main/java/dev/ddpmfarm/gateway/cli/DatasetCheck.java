package dev.ddpmfarm.gateway.cli;

import dev.ddpmfarm.common.data.IdxArray;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * What {@code farm augment} checks in a downloaded perClass dataset of {@code count} samples: every file of the format
 * holds {@code count} samples, and sample i (each index exactly once) carries the class i / perClass, as the job's
 * class-major order makes it.
 */
final class DatasetCheck {
    /** The files of each dataset format; {@code labels.csv} comes with all of them. */
    static final Map<String, Set<String>> FILES = Map.of(
            "idx", Set.of("images-idx3-ubyte", "labels-idx1-ubyte", "labels.csv"),
            "npy", Set.of("samples.npy", "labels.npy", "labels.csv"),
            "imagefolder", Set.of("imagefolder.zip", "labels.csv"));
    private static final Pattern NPY_SHAPE = Pattern.compile("'shape': \\((\\d+),");
    private static final Pattern ZIP_ENTRY = Pattern.compile("(\\d+)/(\\d+)\\.png");

    private DatasetCheck() {
    }

    /** The first problem found in the dataset under {@code dir}, or null when it is complete and labelled right. */
    static String check(Path dir, String format, int perClass, int count) throws IOException {
        for (String file : FILES.get(format)) {
            if (!Files.exists(dir.resolve(file))) {
                return file + " is missing";
            }
        }
        int[] labels = new int[count];
        List<String> lines = Files.readAllLines(dir.resolve("labels.csv"), StandardCharsets.UTF_8);
        if (lines.size() != count + 1) {
            return "labels.csv has " + (lines.size() - 1) + " rows, expected " + count;
        }
        for (int i = 0; i < count; i++) {
            String[] f = lines.get(i + 1).split(",", -1);
            if (!f[0].equals(Integer.toString(i)) || !f[2].equals(Integer.toString(i / perClass))) {
                return "labels.csv row " + (i + 1) + " is '" + lines.get(i + 1) + "', expected index " + i
                        + " of class " + i / perClass;
            }
            labels[i] = i / perClass;
        }
        return switch (format) {
            case "idx" -> idx(dir, labels);
            case "npy" -> npy(dir, labels);
            default -> imageFolder(dir, labels);
        };
    }

    /**
     * What labels.csv tells of minConfidence: the samples drawn again (their seed is not the job's) and those the
     * classifier sees as another class.
     */
    static String redraws(Path dir, long jobSeed) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("labels.csv"), StandardCharsets.UTF_8);
        long redrawn = 0;
        long otherClass = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            redrawn += f[1].equals(Long.toString(jobSeed)) ? 0 : 1;
            otherClass += f[3].isEmpty() || f[3].equals(f[2]) ? 0 : 1;
        }
        return redrawn + " drawn again for minConfidence, " + otherClass + " classified as another class";
    }

    private static String idx(Path dir, int[] labels) throws IOException {
        IdxArray images = IdxArray.read(dir.resolve("images-idx3-ubyte"));
        IdxArray idxLabels = IdxArray.read(dir.resolve("labels-idx1-ubyte"));
        if (images.shape()[0] != labels.length || idxLabels.shape()[0] != labels.length) {
            return "the IDX files hold " + images.shape()[0] + " images and " + idxLabels.shape()[0] + " labels";
        }
        for (int i = 0; i < labels.length; i++) {
            if ((idxLabels.data()[i] & 0xff) != labels[i]) {
                return "labels-idx1-ubyte gives sample " + i + " class " + (idxLabels.data()[i] & 0xff);
            }
        }
        return null;
    }

    private static String npy(Path dir, int[] labels) throws IOException {
        byte[] header;
        try (InputStream in = Files.newInputStream(dir.resolve("samples.npy"))) {
            header = in.readNBytes(256); // the shape is in the header; the images may be gigabytes
        }
        Matcher m = NPY_SHAPE.matcher(new String(header, StandardCharsets.ISO_8859_1));
        if (!m.find() || Integer.parseInt(m.group(1)) != labels.length) {
            return "samples.npy does not hold " + labels.length + " images";
        }
        byte[] file = Files.readAllBytes(dir.resolve("labels.npy"));
        int dataStart = 10 + (ByteBuffer.wrap(file, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff);
        if (file.length - dataStart != labels.length * Long.BYTES) {
            return "labels.npy does not hold " + labels.length + " int64 labels";
        }
        ByteBuffer values = ByteBuffer.wrap(file, dataStart, labels.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < labels.length; i++) {
            long label = values.getLong();
            if (label != labels[i]) {
                return "labels.npy gives sample " + i + " class " + label;
            }
        }
        return null;
    }

    private static String imageFolder(Path dir, int[] labels) throws IOException {
        boolean[] seen = new boolean[labels.length];
        try (InputStream in = Files.newInputStream(dir.resolve("imagefolder.zip"));
             ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                Matcher m = ZIP_ENTRY.matcher(e.getName());
                int index = m.matches() ? Integer.parseInt(m.group(2)) : -1;
                if (index < 0 || index >= labels.length || seen[index]
                        || Integer.parseInt(m.group(1)) != labels[index]) {
                    return "imagefolder.zip has an unexpected entry " + e.getName();
                }
                seen[index] = true;
            }
        }
        for (int i = 0; i < seen.length; i++) {
            if (!seen[i]) {
                return "imagefolder.zip lacks sample " + i;
            }
        }
        return null;
    }
}

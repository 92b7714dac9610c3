package dev.ddpmfarm.worker.cli;

import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.Scheduler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.worker.model.Denoiser;
import dev.ddpmfarm.worker.model.LoadedModel;
import dev.ddpmfarm.worker.output.Grid;
import dev.ddpmfarm.worker.output.Npy;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.sampling.BatchSampler;
import dev.ddpmfarm.worker.sampling.SampleState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code farm sample --count N --sampler ddpm|ddim --steps S [--eta E] [--variance beta|posterior]
 * [--class C --guidance G [--guidance-start F] [--guidance-stop F]] --seed K [--first-index I] --out DIR
 * [--format png,npy,grid] [--batch B] [--model DIR]}:
 * samples in-process, without the farm, and writes the files a generate job stores (SPEC §6):
 * {@code samples/000000.png …}, {@code samples.npy} and {@code grid.png}. Sample i draws its noise from (seed, i, t)
 * as in a job, so {@code --first-index I --count 1} regenerates sample I of a job alone. A progress bar goes to stderr
 * and a final images/s line to stdout.
 */
public final class SampleCli {
    public static final String USAGE = "sample --count N [--sampler ddpm|ddim] [--steps S] [--eta E] [--variance beta|posterior]"
            + " [--class C --guidance G [--guidance-start F] [--guidance-stop F]] [--seed K] [--first-index I] --out DIR"
            + " [--format png,npy,grid] [--batch B] [--model DIR]";

    /** The files this command writes. */
    enum Format {
        PNG, NPY, GRID;

        static Set<Format> parse(String list) {
            Set<Format> formats = EnumSet.noneOf(Format.class);
            for (String name : list.split(",")) {
                try {
                    formats.add(valueOf(name.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("unknown format '" + name + "', expected png, npy or grid");
                }
            }
            return formats;
        }
    }

    private SampleCli() {
    }

    public static void main(String[] args) throws IOException {
        Args a = new Args(args);
        Path modelDir = Path.of(a.value("--model", "models/fashion-mnist"));
        Path out = Path.of(a.value("--out", null));
        int count = positive(a, "--count", "16");
        Sampler sampler = Sampler.fromWireName(a.value("--sampler", "ddpm"));
        VarianceType variance = VarianceType.fromWireName(a.value("--variance", "beta"));
        double eta = Double.parseDouble(a.value("--eta", "0"));
        int classLabel = Integer.parseInt(a.value("--class", String.valueOf(Denoiser.NO_CLASS)));
        Guidance guidance = a.guidance("1");
        long seed = Long.parseLong(a.value("--seed", String.valueOf(ThreadLocalRandom.current().nextLong(1L << 48))));
        Set<Format> formats = Format.parse(a.value("--format", "png,npy,grid"));
        int batch = positive(a, "--batch", "64");
        int first = Integer.parseInt(a.value("--first-index", "0"));

        LoadedModel model = LoadedModel.load(modelDir, System.err);
        int steps = positive(a, "--steps", String.valueOf(sampler == Sampler.DDIM ? 50 : model.process().timesteps()));
        Scheduler scheduler = Scheduler.create(model.process(), sampler, steps, variance, eta);
        if (classLabel != Denoiser.NO_CLASS && (classLabel < 0 || classLabel >= model.denoiser().numClasses())) {
            throw new IllegalArgumentException(model.denoiser().numClasses() == 0 ? "the model is unconditional: drop --class"
                    : "--class must lie in 0.." + (model.denoiser().numClasses() - 1));
        }
        BatchSampler batchSampler = new BatchSampler(model.denoiser());
        List<SampleState> states = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            states.add(SampleState.start("sample", first + i, seed, scheduler, classLabel, guidance,
                    batchSampler.dims()));
        }
        System.err.printf("sampling %d images, %s %d steps, seed %d, batch %d%n", count, sampler.wireName(), steps, seed,
                batch);
        ProgressBar progress = new ProgressBar((long) count * steps, "sample-steps", System.err);
        long start = System.nanoTime();
        List<SampleState> done = batchSampler.run(states, batch, r -> progress.step());
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.finish();

        int[] shape = model.denoiser().imageShape();
        List<Uint8Image> images = done.stream()
                .map(s -> Uint8Image.fromModelScale(s.x(), shape[0], shape[1], shape[2])).toList();
        write(out, images, formats, first);
        System.out.printf("%d images in %.1f s (%.2f images/s) -> %s%n", count, seconds, count / seconds, out);
    }

    /** Writes the files; sample PNGs are named by their index, {@code first} being the first sample's. */
    static void write(Path out, List<Uint8Image> images, Set<Format> formats, int first) throws IOException {
        Files.createDirectories(out);
        if (formats.contains(Format.PNG)) {
            for (int i = 0; i < images.size(); i++) {
                Png.write(out.resolve("samples").resolve(String.format("%06d.png", first + i)), images.get(i));
            }
        }
        if (formats.contains(Format.NPY)) {
            Files.write(out.resolve("samples.npy"), Npy.images(images).encode());
        }
        if (formats.contains(Format.GRID)) {
            Png.write(out.resolve("grid.png"), Grid.of(images));
        }
    }

    private static int positive(Args a, String name, String fallback) {
        int v = Integer.parseInt(a.value(name, fallback));
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
        return v;
    }

}

package dev.ddpmfarm.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.diffusion.Guidance;
import dev.ddpmfarm.common.diffusion.Sampler;
import dev.ddpmfarm.common.diffusion.VarianceType;
import dev.ddpmfarm.common.wire.JobRequestParser.Accepted;
import dev.ddpmfarm.common.wire.JobRequestParser.Reason;
import dev.ddpmfarm.common.wire.JobRequestParser.Rejection;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JobRequestParserTest {
    private final JobRequestParser parser = new JobRequestParser(TestModels.CATALOG);

    private JobRequestParser.Result parse(String json) {
        return parser.parse(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    private JobRequest accepted(String json) {
        JobRequestParser.Result r = parse(json);
        assertInstanceOf(Accepted.class, r, () -> "rejected: " + r);
        return ((Accepted) r).request();
    }

    private Rejection rejected(String json, Reason reason) {
        JobRequestParser.Result r = parse(json);
        Rejection rejection = assertInstanceOf(Rejection.class, r, () -> "accepted: " + r);
        assertEquals(reason, rejection.reason(), rejection::toString);
        return rejection;
    }

    /** field → message of every error. */
    private static Map<String, String> fields(Rejection r) {
        Map<String, String> m = new TreeMap<>();
        r.errors().forEach(e -> m.put(e.field(), e.message()));
        return m;
    }

    @Test
    @DisplayName("a bare generate request takes the defaults of SPEC §3, and resolution sets steps to T and the seed")
    void defaults() {
        GenerateRequest g = (GenerateRequest) accepted("{'type':'generate'}");
        assertEquals(new GenerateRequest("fashion-mnist", 64, Sampler.DDPM, null, 0.0, VarianceType.BETA, null, null,
                1.0, null, null, 100, List.of(OutputFormat.PNG, OutputFormat.NPY, OutputFormat.GRID), 5, null, null, null), g);
        GenerateRequest resolved = g.resolve(TestModels.FASHION, 1234);
        assertEquals(1000, resolved.steps());
        assertEquals(1234L, resolved.seed());
        assertEquals(7L, ((GenerateRequest) accepted("{'type':'generate','seed':7}")).resolve(TestModels.FASHION, 1)
                .seed(), "a seed given by the client is kept");
    }

    @Test
    @DisplayName("the SPEC §3 generate example is accepted as written")
    void specExample() {
        GenerateRequest g = (GenerateRequest) accepted("{'type':'generate','model':'fashion-mnist','count':64,"
                + "'sampler':'ddpm','steps':1000,'eta':0.0,'variance':'beta','seed':42,'class':null,'guidance':1.0,"
                + "'checkpointEvery':100,'outputs':['png','npy','grid'],'priority':5}");
        assertEquals(42L, g.seed());
        assertNull(g.classLabel());
        assertEquals(List.of(OutputFormat.PNG, OutputFormat.NPY, OutputFormat.GRID), g.outputs());
    }

    @Test
    @DisplayName("every out-of-range field is listed, not only the first")
    void allRangeErrors() {
        Rejection r = rejected("{'type':'generate','count':0,'steps':0,'sampler':'ddim','eta':1.5,'priority':10,"
                + "'guidance':-1,'checkpointEvery':-5,'seed':-1}", Reason.INVALID);
        assertEquals(List.of("checkpointEvery", "count", "eta", "guidance", "priority", "seed", "steps"),
                List.copyOf(fields(r).keySet()));
    }

    @Test
    @DisplayName("type errors, unknown enum values, unknown fields and range errors are reported together, "
            + "array elements at the index the client sent")
    void mixedErrors() {
        Rejection r = rejected("{'type':'generate','count':'many','sampler':'euler','colour':'red',"
                + "'outputs':['png','gif','npy','bmp'],'steps':5000,'priority':11}", Reason.INVALID);
        Map<String, String> f = fields(r);
        assertEquals(List.of("colour", "count", "outputs[1]", "outputs[3]", "priority", "sampler", "steps"),
                List.copyOf(f.keySet()), f::toString);
        assertTrue(f.get("sampler").contains("ddpm") && f.get("sampler").contains("ddim"), f.get("sampler"));
        assertTrue(f.get("colour").contains("unknown field"), f.get("colour"));
        assertTrue(f.get("steps").contains("1000"), "steps above T is checked against the model: " + f.get("steps"));
    }

    @ParameterizedTest(name = "count {0} is refused")
    @ValueSource(strings = {"0", "-1", "1000001", "1.5", "'64'", "true", "[1]", "1e12"})
    @DisplayName("count outside 1 … 1,000,000 or not an integer is refused naming count")
    void badCount(String count) {
        Rejection r = rejected("{'type':'generate','count':" + count + "}", Reason.INVALID);
        assertEquals(List.of("count"), r.errors().stream().map(FieldError::field).toList(), r::toString);
    }

    @ParameterizedTest(name = "count {0} is accepted")
    @ValueSource(ints = {1, 1_000_000})
    @DisplayName("count at the bounds is accepted")
    void countBounds(int count) {
        assertEquals(count, accepted("{'type':'generate','count':" + count + "}").sampleCount());
    }

    @Test
    @DisplayName("perClass asks N of every class: count is N × classes, samples ordered by class")
    void perClass() {
        GenerateRequest g = ((GenerateRequest) accepted("{'type':'generate','perClass':1000,'sampler':'ddim',"
                + "'steps':50,'guidance':2,'outputs':['idx']}")).resolve(TestModels.FASHION, 1);
        assertEquals(10_000, g.sampleCount());
        assertEquals(0, g.classOf(0));
        assertEquals(0, g.classOf(999));
        assertEquals(1, g.classOf(1000));
        assertEquals(9, g.classOf(9999));
    }

    @Test
    @DisplayName("classes asks {label: count}: count is the sum, blocks of indices by ascending label")
    void classes() {
        GenerateRequest g = (GenerateRequest) accepted("{'type':'generate','classes':{'7':3,'2':2}}");
        assertEquals(5, g.sampleCount());
        assertEquals(List.of(2, 2, 7, 7, 7), IntStream.range(0, 5).mapToObj(g::classOf).toList());
        GenerateRequest resolved = g.resolve(TestModels.FASHION, 3);
        assertEquals(g.classes(), resolved.classes());
        assertEquals(5, resolved.sampleCount());
    }

    @Test
    @DisplayName("minConfidence is a probability and needs requested classes; each redraw has its own seed")
    void minConfidence() {
        assertEquals(0.9, ((GenerateRequest) accepted("{'type':'generate','perClass':10,'minConfidence':0.9}"))
                .minConfidence());
        assertEquals(List.of("minConfidence"), List.copyOf(fields(rejected("{'type':'generate','count':10,"
                + "'minConfidence':0.9}", Reason.INVALID)).keySet()), "an unconditional job has no class to check");
        assertEquals(List.of("minConfidence"), List.copyOf(fields(rejected("{'type':'generate','class':1,"
                + "'minConfidence':1.5}", Reason.INVALID)).keySet()));
        assertEquals(42L, GenerateRequest.drawSeed(42, 0));
        List<Long> seeds = IntStream.rangeClosed(0, GenerateRequest.MAX_REDRAWS)
                .mapToObj(k -> GenerateRequest.drawSeed(42, k)).toList();
        assertEquals(seeds.size(), seeds.stream().distinct().count());
        assertTrue(seeds.stream().allMatch(s -> s >= 0 && s <= JobRequest.MAX_SEED), "valid job seeds: " + seeds);
    }

    @Test
    @DisplayName("a dataset request refuses count, class, both forms, bad labels and counts, unconditional models")
    void datasetErrors() {
        assertEquals(Map.of("class", "a dataset job takes its classes from perClass or classes; leave class out"),
                fields(rejected("{'type':'generate','perClass':5,'class':1}", Reason.INVALID)));
        assertEquals(Map.of("count", "follows from perClass or classes; leave it out"),
                fields(rejected("{'type':'generate','perClass':5,'count':49}", Reason.INVALID)));
        assertEquals(50, accepted("{'type':'generate','perClass':5,'count':50}").sampleCount(),
                "a count that agrees is accepted");
        assertEquals(List.of("perClass"), List.copyOf(fields(rejected("{'type':'generate','perClass':5,"
                + "'classes':{'1':2}}", Reason.INVALID)).keySet()));
        assertEquals(List.of("classes.3"), List.copyOf(fields(rejected("{'type':'generate','classes':{'3':0}}",
                Reason.INVALID)).keySet()));
        assertEquals(List.of("classes"), List.copyOf(fields(rejected("{'type':'generate','classes':{'10':5}}",
                Reason.INVALID)).keySet()), "label above the model's classes");
        assertEquals(List.of("perClass"), List.copyOf(fields(rejected("{'type':'generate','perClass':100001}",
                Reason.INVALID)).keySet()), "over 1,000,000 samples in all");
        assertEquals(List.of("perClass"), List.copyOf(fields(rejected("{'type':'generate','model':'plain',"
                + "'perClass':5}", Reason.INVALID)).keySet()));
    }

    @Test
    @DisplayName("steps up to T are accepted, above T refused; DDIM takes 1 … T")
    void stepsAgainstModel() {
        assertEquals(1000, ((GenerateRequest) accepted("{'type':'generate','steps':1000}")).steps());
        assertEquals(50, ((GenerateRequest) accepted("{'type':'generate','sampler':'ddim','steps':50,'eta':0.5}"))
                .steps());
        assertEquals(List.of("steps"), List.copyOf(fields(rejected("{'type':'generate','steps':1001}",
                Reason.INVALID)).keySet()));
    }

    @Test
    @DisplayName("eta is for DDIM only")
    void etaNeedsDdim() {
        Rejection r = rejected("{'type':'generate','eta':0.5}", Reason.INVALID);
        assertTrue(fields(r).get("eta").contains("ddim"));
    }

    @Test
    @DisplayName("class must be one of the model's classes; class and guidance need a conditional model, guidance a class")
    void classAgainstModel() {
        assertEquals(9, ((GenerateRequest) accepted("{'type':'generate','class':9,'guidance':3}")).classLabel());
        assertTrue(fields(rejected("{'type':'generate','class':10}", Reason.INVALID)).get("class").contains("0 and 9"));
        assertTrue(fields(rejected("{'type':'generate','class':-1}", Reason.INVALID)).containsKey("class"));
        assertEquals(List.of("class", "guidance"), List.copyOf(fields(rejected(
                "{'type':'generate','model':'plain','class':1,'guidance':2}", Reason.INVALID)).keySet()));
        assertTrue(fields(rejected("{'type':'generate','guidance':2}", Reason.INVALID)).get("guidance")
                .contains("set class"), "guidance without a class has nothing to steer toward");
    }

    @Test
    @DisplayName("guidanceStart and guidanceStop limit guidance to a fraction of the steps and need guidance")
    void guidanceInterval() {
        GenerateRequest g = (GenerateRequest) accepted(
                "{'type':'generate','class':3,'guidance':2,'guidanceStart':0.4,'sampler':'ddim','steps':50}");
        assertEquals(new Guidance(2, 0.4, 1), g.guidancePlan());
        assertEquals(Guidance.of(2), ((GenerateRequest) accepted("{'type':'generate','class':3,'guidance':2}"))
                .guidancePlan());
        assertEquals(List.of("guidanceStart", "guidanceStop"), List.copyOf(fields(rejected(
                "{'type':'generate','class':3,'guidance':2,'guidanceStart':-0.1,'guidanceStop':1.5}",
                Reason.INVALID)).keySet()));
        assertTrue(fields(rejected("{'type':'generate','class':3,'guidance':2,'guidanceStart':0.6,'guidanceStop':0.6}",
                Reason.INVALID)).get("guidanceStop").contains("must not be empty"));
        assertEquals(List.of("guidanceStart"), List.copyOf(fields(rejected(
                "{'type':'generate','class':3,'guidance':2,'guidanceStart':1}", Reason.INVALID)).keySet()),
                "the error names the field that was sent");
        assertTrue(fields(rejected("{'type':'generate','class':3,'guidance':2,'guidanceStart':0.1,'guidanceStop':0.4,"
                + "'sampler':'ddim','steps':2}", Reason.INVALID)).get("guidanceStart").contains("guides none of the 2"));
        assertEquals(null, ((GenerateRequest) accepted("{'type':'generate','class':3,'guidance':2}")).guidanceStart(),
                "an absent interval stays absent on the wire");
        assertTrue(fields(rejected("{'type':'generate','class':3,'guidanceStart':0.4}", Reason.INVALID))
                .get("guidanceStart").contains("set guidance"), "an interval without guidance limits nothing");
    }

    @Test
    @DisplayName("outputs must be known formats, at least one, without repeats")
    void outputs() {
        assertEquals(List.of(OutputFormat.IDX, OutputFormat.LABELS),
                ((GenerateRequest) accepted("{'type':'generate','outputs':['idx','labels']}")).outputs());
        assertTrue(fields(rejected("{'type':'generate','outputs':[]}", Reason.INVALID)).containsKey("outputs"));
        assertTrue(fields(rejected("{'type':'generate','outputs':['png','png']}", Reason.INVALID))
                .get("outputs").contains("repeat"));
        assertTrue(fields(rejected("{'type':'generate','model':'rgb','outputs':['idx']}", Reason.INVALID))
                .get("outputs").contains("one-channel"), "IDX files hold gray images");
        assertTrue(fields(rejected("{'type':'generate','outputs':'png'}", Reason.INVALID)).containsKey("outputs"));
        // whole-job files of more than 1 GiB of images are refused (3×32×32 = 3,072 bytes a sample); PNGs alone are not
        assertTrue(fields(rejected("{'type':'generate','model':'rgb','count':400000,'outputs':['grid']}",
                Reason.INVALID)).get("count").contains("349525 samples"));
        assertEquals(400_000, accepted("{'type':'generate','model':'rgb','count':400000,'outputs':['png']}")
                .sampleCount());
        assertEquals(1_000_000, accepted("{'type':'generate','count':1000000,'outputs':['npy','idx']}").sampleCount());
        // one answer names every bad field, the repeat and the model's check included
        assertEquals(Set.of("count", "outputs", "steps"), fields(rejected("{'type':'generate','count':0,"
                + "'outputs':['png','png'],'steps':5000}", Reason.INVALID)).keySet());
    }

    @Test
    @DisplayName("a missing or unknown type is named; nothing else can be checked without it")
    void type() {
        assertTrue(fields(rejected("{'count':3}", Reason.INVALID)).get("type").startsWith("required"));
        assertTrue(fields(rejected("{'type':'upscale'}", Reason.INVALID)).get("type").contains("rate-distortion"));
    }

    @ParameterizedTest(name = "body {0} is malformed")
    @ValueSource(strings = {"", "{", "{'type':'generate',}", "[]", "'generate'", "42", "{'type':'generate'} {}",
            "{'type':'generate','count':1,'count':2}"})
    @DisplayName("a body that is not one JSON object is malformed")
    void malformed(String body) {
        rejected(body, Reason.MALFORMED);
    }

    @Test
    @DisplayName("an unknown model alone is its own kind of failure; with other errors it is listed among them")
    void unknownModel() {
        Rejection alone = rejected("{'type':'generate','model':'cifar10'}", Reason.UNKNOWN_MODEL);
        assertEquals(List.of("model"), List.copyOf(fields(alone).keySet()));
        Rejection more = rejected("{'type':'generate','model':'cifar10','count':0}", Reason.INVALID);
        assertEquals(List.of("count", "model"), List.copyOf(fields(more).keySet()));
        assertTrue(fields(rejected("{'type':'generate','model':'Bad Name'}", Reason.INVALID)).containsKey("model"));
    }

    @Test
    @DisplayName("seeds are 0 … 2^53 − 1 so that JavaScript clients see them exactly")
    void seedRange() {
        assertEquals(JobRequest.MAX_SEED, accepted("{'type':'generate','seed':9007199254740991}").seed());
        assertTrue(fields(rejected("{'type':'generate','seed':9007199254740992}", Reason.INVALID)).containsKey("seed"));
    }

    @Test
    @DisplayName("the SPEC §3 progressive example is accepted; its indices and timesteps are checked")
    void progressive() {
        ProgressiveRequest p = (ProgressiveRequest) accepted("{'type':'progressive','input':{'dataset':"
                + "'fashion-mnist:test','indices':[0,1,2]},'timesteps':[1000,750,500,250,100,0],"
                + "'samplesPerTimestep':4,'seed':7}");
        assertEquals(3, p.sampleCount());
        assertEquals(Dataset.FASHION_MNIST_TEST, p.input().dataset());

        Rejection r = rejected("{'type':'progressive','input':{'dataset':'fashion-mnist:test','indices':[0,10000,-1]},"
                + "'timesteps':[1001,5],'samplesPerTimestep':17}", Reason.INVALID);
        assertEquals(List.of("input.indices[1]", "input.indices[2]", "samplesPerTimestep", "timesteps[0]"),
                List.copyOf(fields(r).keySet()), r::toString);
        r = rejected("{'type':'progressive','input':{'dataset':'fashion-mnist:test','indices':[0]},"
                + "'timesteps':[1001,5,-1]}", Reason.INVALID);
        assertEquals(List.of("timesteps[0]", "timesteps[2]"), List.copyOf(fields(r).keySet()), r::toString);

        assertEquals(List.of("input", "timesteps"),
                List.copyOf(fields(rejected("{'type':'progressive'}", Reason.INVALID)).keySet()));
        assertTrue(fields(rejected("{'type':'progressive','input':{'dataset':'mnist','indices':[1]},'timesteps':[1]}",
                Reason.INVALID)).containsKey("input.dataset"));
    }

    @Test
    @DisplayName("rate-distortion takes \"all\" or a list of timesteps; anything else is refused naming timesteps")
    void rateDistortion() {
        RateDistortionRequest all = (RateDistortionRequest) accepted("{'type':'rate-distortion','input':"
                + "{'dataset':'fashion-mnist:test','count':1000},'timesteps':'all'}");
        assertTrue(all.timesteps().all());
        assertEquals(1000, all.sampleCount());
        RateDistortionRequest listed = (RateDistortionRequest) accepted("{'type':'rate-distortion','input':"
                + "{'dataset':'fashion-mnist:test','count':10},'timesteps':[1,500,1000]}");
        assertEquals(List.of(1, 500, 1000), listed.timesteps().steps());
        assertTrue(((RateDistortionRequest) accepted("{'type':'rate-distortion','input':{'dataset':"
                + "'fashion-mnist:test','count':10}}")).timesteps().all(), "timesteps default to all");

        assertEquals(List.of("timesteps"), List.copyOf(fields(rejected("{'type':'rate-distortion','input':"
                + "{'dataset':'fashion-mnist:test','count':10},'timesteps':'some'}", Reason.INVALID)).keySet()));
        assertEquals(List.of("timesteps[1]"), List.copyOf(fields(rejected("{'type':'rate-distortion','input':"
                + "{'dataset':'fashion-mnist:test','count':10},'timesteps':[1,1001]}", Reason.INVALID)).keySet()));
        // the model's check numbers the list as sent, although the element before was pruned for its own error
        assertEquals(Set.of("timesteps[0]", "timesteps[2]"), fields(rejected("{'type':'progressive','input':"
                + "{'dataset':'fashion-mnist:test','indices':[0]},'timesteps':[-1,500,2000]}", Reason.INVALID)).keySet());
        Map<String, String> repeated = fields(rejected("{'type':'rate-distortion','input':"
                + "{'dataset':'fashion-mnist:test','count':10},'timesteps':[500,1,500]}", Reason.INVALID));
        assertEquals(List.of("timesteps"), List.copyOf(repeated.keySet()));
        assertTrue(repeated.get("timesteps").contains("repeat"), repeated.toString());
        assertEquals(List.of("input.count"), List.copyOf(fields(rejected("{'type':'rate-distortion','input':"
                + "{'dataset':'fashion-mnist:test','count':10001}}", Reason.INVALID)).keySet()));
    }

    /** A base64 gray PNG of {@code width × height}. */
    private static String png(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    /** A base64 PNG signature and IHDR chunk declaring {@code width × height}, with nothing after it. */
    private static String header(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(33);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}).putInt(13).put("IHDR".getBytes(
                StandardCharsets.US_ASCII)).putInt(width).putInt(height).put(new byte[] {8, 0, 0, 0, 0}).putInt(0);
        return Base64.getEncoder().encodeToString(b.array());
    }

    @Test
    @DisplayName("uploaded images must be PNGs the model can take, checked from their header, and come without a "
            + "dataset")
    void images() {
        assertEquals(2, accepted("{'type':'rate-distortion','input':{'images':['" + png(28, 28) + "','" + png(56, 56)
                + "']}}").sampleCount());
        Map<String, String> f = fields(rejected("{'type':'rate-distortion','input':{'images':['" + png(28, 28)
                + "','%%%','iVBORw0KGgo=','R0lGODlh','" + header(0, 0) + "','" + header(100_000, 100_000) + "']}}",
                Reason.INVALID));
        assertEquals(List.of("input.images[1]", "input.images[2]", "input.images[3]", "input.images[4]",
                "input.images[5]"), List.copyOf(f.keySet()));
        assertTrue(f.get("input.images[1]").contains("base64"), f.toString());
        assertTrue(f.get("input.images[2]").contains("IHDR"), f.toString());
        assertTrue(f.get("input.images[3]").contains("not a PNG"), f.toString());
        assertTrue(f.get("input.images[4]").contains("0×0"), f.toString());
        assertTrue(f.get("input.images[5]").contains("too large"), f.toString());
        assertTrue(fields(rejected("{'type':'rate-distortion','input':{'images':['" + png(28, 28) + "'],'dataset':"
                + "'fashion-mnist:test'}}", Reason.INVALID)).containsKey("input.images"));
        Map<String, String> shape = fields(rejected("{'type':'progressive','timesteps':[10],'input':{'images':['"
                + png(28, 28) + "','" + png(1000, 1) + "']}}", Reason.INVALID));
        assertEquals(List.of("input.images[1]"), List.copyOf(shape.keySet()));
        assertTrue(shape.get("input.images[1]").contains("aspect ratio"), shape.toString());
    }

    @Test
    @DisplayName("decodeErrors names the uploaded images whose header is sound but whose pixels cannot be decoded")
    void decodeErrors() throws IOException {
        BufferedImage noise = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        noise.getRaster().setPixels(0, 0, 28, 28, new java.util.Random(1).ints(28 * 28, 0, 256).toArray());
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        ImageIO.write(noise, "png", file);
        byte[] cut = Arrays.copyOf(file.toByteArray(), file.size() - 100); // inside the pixel data
        assertThrows(IOException.class, () -> ImageIO.read(new ByteArrayInputStream(cut)), "the worker's decode fails");
        ImageJobRequest request = (ImageJobRequest) accepted("{'type':'progressive','timesteps':[10],'input':"
                + "{'images':['" + png(28, 28) + "','" + header(28, 28) + "','"
                + Base64.getEncoder().encodeToString(file.toByteArray()) + "','"
                + Base64.getEncoder().encodeToString(cut) + "']}}");
        List<FieldError> errors = request.input().decodeErrors();
        assertEquals(List.of("input.images[1]", "input.images[3]"), errors.stream().map(FieldError::field).toList());
        assertTrue(errors.get(0).message().contains("PNG"), errors.toString());
        assertTrue(((ImageJobRequest) accepted("{'type':'progressive','timesteps':[10],'input':{'dataset':"
                + "'fashion-mnist:test','count':2}}")).input().decodeErrors().isEmpty());
    }
}

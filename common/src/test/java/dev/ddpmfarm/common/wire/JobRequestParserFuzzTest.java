package dev.ddpmfarm.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.wire.JobRequestParser.Accepted;
import dev.ddpmfarm.common.wire.JobRequestParser.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Property test of the request parser (issue 6, item 7): thousands of bodies made by mutating valid requests (members
 * dropped, duplicated or replaced by values of every JSON type, numbers at and past their bounds, unknown members,
 * truncation, stray bytes) never make it throw, every refusal names its fields, and whatever it accepts is valid: it
 * binds again from its own JSON to an equal request and passes the model's checks.
 */
class JobRequestParserFuzzTest {
    private static final int BODIES = 20_000;
    private static final String[] VALID = {
        "{\"type\":\"generate\",\"count\":64,\"sampler\":\"ddim\",\"steps\":50,\"eta\":0.5,\"seed\":7,\"class\":3,"
                + "\"guidance\":2,\"checkpointEvery\":10,\"outputs\":[\"png\",\"npy\"],\"priority\":5}",
        "{\"type\":\"generate\",\"perClass\":100,\"sampler\":\"ddim\",\"steps\":50,\"guidance\":2,"
                + "\"minConfidence\":0.8,\"outputs\":[\"idx\",\"labels\",\"imagefolder\"]}",
        "{\"type\":\"generate\",\"classes\":{\"1\":5,\"7\":10},\"variance\":\"posterior\",\"model\":\"fashion-mnist\"}",
        "{\"type\":\"progressive\",\"input\":{\"dataset\":\"fashion-mnist:test\",\"indices\":[0,1,2]},"
                + "\"timesteps\":[1000,750,500,0],\"samplesPerTimestep\":4,\"seed\":7}",
        "{\"type\":\"rate-distortion\",\"input\":{\"dataset\":\"fashion-mnist:test\",\"count\":100},"
                + "\"timesteps\":\"all\"}",
        "{\"type\":\"rate-distortion\",\"input\":{\"dataset\":\"fashion-mnist:train\",\"indices\":[5]},"
                + "\"timesteps\":[1000,1]}",
    };
    private static final String[] VALUES = {
        "null", "true", "false", "0", "-1", "1", "2", "0.5", "1.5", "-0.0", "1e308", "-1e308", "1e-320", "NaN",
        "9007199254740991", "9007199254740992", "1000000", "1000001", "2147483648", "\"\"", "\"ddim\"", "\"all\"",
        "\"fashion-mnist\"", "\"../x\"", "\"\\u0000\"", "\"é😀\"", "[]", "[1,2]", "[\"png\",\"png\"]", "[null]", "{}",
        "{\"1\":0}", "{\"-1\":5}", "{\"a\":1}", "{\"dataset\":\"fashion-mnist:test\",\"count\":0}",
        "{\"images\":[\"AAAA\"]}", "{\"images\":[]}", "[[[[[]]]]]", "\"" + "x".repeat(300) + "\"",
    };
    private static final String[] MEMBERS = {
        "type", "model", "count", "perClass", "classes", "minConfidence", "sampler", "steps", "eta", "variance",
        "seed", "class", "guidance", "guidanceStart", "guidanceStop", "checkpointEvery", "outputs", "priority", "input", "timesteps",
        "samplesPerTimestep", "colour", "",
    };

    private final JobRequestParser parser = new JobRequestParser(TestModels.CATALOG);

    @Test
    @DisplayName("20,000 mutated bodies: never an exception, every refusal names fields, every acceptance is valid")
    void mutatedBodies() {
        SplittableRandom random = new SplittableRandom(20261125);
        int accepted = 0;
        for (int n = 0; n < BODIES; n++) {
            String body = mutate(VALID[random.nextInt(VALID.length)], random);
            JobRequestParser.Result result;
            try {
                result = parser.parse(body.getBytes(StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                throw new AssertionError("the parser threw on " + body, e);
            }
            if (result instanceof Accepted a) {
                accepted++;
                assertTrue(a.request().validate(a.model()).isEmpty(), body);
                JobRequestParser.Result again = parser.parse(Wire.toBytes(a.request()));
                assertEquals(a.request(), assertInstanceOf(Accepted.class, again, body).request(), body);
            } else {
                Rejection r = (Rejection) result;
                assertTrue(r.reason() == JobRequestParser.Reason.MALFORMED || !r.errors().isEmpty(), body + " " + r);
            }
        }
        assertTrue(accepted > BODIES / 20 && accepted < BODIES * 19 / 20,
                "the mutations should both keep and break requests; accepted " + accepted);
    }

    private static String mutate(String body, SplittableRandom random) {
        String s = body;
        int mutations = 1 + random.nextInt(3);
        for (int m = 0; m < mutations && !s.isEmpty(); m++) {
            switch (random.nextInt(7)) {
                case 0 -> s = replaceValue(s, random);
                case 1 -> s = s.replaceFirst("\"" + MEMBERS[random.nextInt(MEMBERS.length)] + "\":", "\""
                        + MEMBERS[random.nextInt(MEMBERS.length)] + "\":");
                case 2 -> s = s.substring(0, s.length() - 1) + ",\"" + MEMBERS[random.nextInt(MEMBERS.length)] + "\":"
                        + VALUES[random.nextInt(VALUES.length)] + "}";
                case 3 -> s = s.substring(0, random.nextInt(s.length()));
                case 4 -> {
                    int at = random.nextInt(s.length());
                    s = s.substring(0, at) + "\",}]{:\\\u0000".charAt(random.nextInt(8)) + s.substring(at);
                }
                case 5 -> s = replaceValue(s, random);
                default -> { }
            }
        }
        return s;
    }

    /** Replaces the value of one member (up to the next comma or closing brace) with a value from {@link #VALUES}. */
    private static String replaceValue(String s, SplittableRandom random) {
        List<Integer> colons = new ArrayList<>();
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ':') {
                colons.add(i);
            }
        }
        if (colons.isEmpty()) {
            return s;
        }
        int start = colons.get(random.nextInt(colons.size())) + 1;
        int end = start;
        int depth = 0;
        while (end < s.length() && !(depth == 0 && (s.charAt(end) == ',' || s.charAt(end) == '}'))) {
            char c = s.charAt(end);
            depth += c == '[' || c == '{' ? 1 : c == ']' || (c == '}' && depth > 0) ? -1 : 0;
            end++;
        }
        return s.substring(0, start) + VALUES[random.nextInt(VALUES.length)] + s.substring(end);
    }
}

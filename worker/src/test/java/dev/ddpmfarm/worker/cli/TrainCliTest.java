package dev.ddpmfarm.worker.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.common.model.ModelCard;
import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCliTest {
    @Test
    @DisplayName("farm train on a PNG folder stops where --lr-anneal-steps brings the rate to zero, also when resumed, and records its EMA decay")
    void stopsAtTheEndOfTheAnneal(@TempDir Path dir) throws Exception {
        for (String label : new String[] {"bag", "shirt"}) {
            for (int i = 0; i < 4; i++) {
                byte[] pixels = new byte[64];
                pixels[i] = (byte) (label.equals("bag") ? 255 : 128);
                Png.write(dir.resolve("data/" + label + "/" + i + ".png"), new Uint8Image(8, 8, 1, pixels));
            }
        }
        String[] args = {"--data", dir.resolve("data").toString(), "--out", dir.resolve("models/mine").toString(),
            "--checkpoints", dir.resolve("checkpoints").toString(), "--batch", "4", "--lr-anneal-steps", "3", "--ema-decay", "0.999", "--resume"};

        TrainCli.main(args);
        ModelCard card = ModelCard.read(dir.resolve("models/mine"));
        assertEquals(3, ((Number) card.training().get("steps")).intValue());
        assertEquals(List.of("bag", "shirt"), card.classNames());
        assertEquals(0.999, ((Number) card.training().get("emaDecay")).doubleValue());

        TrainCli.main(args);
        assertEquals(3, ((Number) ModelCard.read(dir.resolve("models/mine")).training().get("steps")).intValue());
        assertTrue(Files.exists(dir.resolve("models/mine/model.safetensors")));
    }
}

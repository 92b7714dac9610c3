package dev.ddpmfarm.common.wire;

import dev.ddpmfarm.common.model.ModelCard;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Model cards for tests: a class-conditional Fashion-MNIST model, an unconditional one and an unconditional RGB one,
 * all T = 1000.
 */
final class TestModels {
    static final ModelCard FASHION = new ModelCard("fashion-mnist", new int[]{1, 28, 28}, 1000, "linear",
            List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                    "Ankle boot"), null, 1000, null, null);
    static final ModelCard UNCONDITIONAL = new ModelCard("plain", new int[]{1, 28, 28}, 1000, "linear", List.of(),
            null, 1000, null, null);
    static final ModelCard RGB = new ModelCard("rgb", new int[]{3, 32, 32}, 1000, "linear", List.of(), null, 1000,
            null, null);

    static final Function<String, Optional<ModelCard>> CATALOG = name -> switch (name) {
        case "fashion-mnist" -> Optional.of(FASHION);
        case "plain" -> Optional.of(UNCONDITIONAL);
        case "rgb" -> Optional.of(RGB);
        default -> Optional.empty();
    };

    private TestModels() {
    }
}

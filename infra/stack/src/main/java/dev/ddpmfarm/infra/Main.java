package dev.ddpmfarm.infra;

import dev.ddpmfarm.gateway.cli.ClientCli;
import dev.ddpmfarm.worker.cli.AugmentationBench;
import dev.ddpmfarm.worker.cli.BenchCli;
import dev.ddpmfarm.worker.cli.EvalCli;
import dev.ddpmfarm.worker.cli.SampleCli;
import dev.ddpmfarm.worker.cli.TrainCli;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code scripts/farm} command line: one subcommand per entry point of the project (SPEC §2). */
public final class Main {

    /** A subcommand's entry point: the {@code main} of the class that implements it. */
    @FunctionalInterface
    interface EntryPoint {
        void run(String[] args) throws Exception;
    }

    record Command(String usage, EntryPoint entryPoint) {
    }

    private static final Map<String, String> CLIENT_USAGE = Map.of("submit", " '<json>' [--wait]", "watch", " ID",
            "get", " ID --out DIR", "augment", " " + ClientCli.AUGMENT_ARGS);

    static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("up", new Command("up        (the whole farm on this machine; data in FARM_DATA_DIR, default ./data)",
                UpCommand::main));
        COMMANDS.put("gateway", new Command("gateway   (configured by FARM_* variables: Kafka, S3, port, API keys)",
                GatewayCommand::main));
        COMMANDS.put("worker", new Command("worker    (configured by FARM_* variables: Kafka, S3, models, batch size)",
                WorkerCommand::main));
        COMMANDS.put("cluster", new Command("cluster [--workers N]  (broker, S3 server, gateway and N workers as "
                + "separate processes on this machine)", ClusterCommand::main));
        COMMANDS.put("publish", new Command("publish DIR  (a model directory to FARM_MODELS_PREFIX in the S3 bucket, "
                + "where gateways and workers with that prefix find it)", PublishCommand::main));
        COMMANDS.put("kafka", new Command("kafka     (the embedded Kafka broker alone, on FARM_KAFKA_BOOTSTRAP's port)",
                ClusterCommand::kafka));
        COMMANDS.put("s3", new Command("s3        (the embedded S3 server alone, on FARM_S3_ENDPOINT with FARM_S3_* keys)",
                ClusterCommand::s3));
        for (String client : new String[] {"submit", "watch", "get", "augment"}) {
            COMMANDS.put(client, new Command(client + CLIENT_USAGE.get(client), args -> clientCommand(client, args)));
        }
        COMMANDS.put("sample", new Command(SampleCli.USAGE, SampleCli::main));
        COMMANDS.put("train", new Command("train --data fashion-mnist|DIR --out DIR [--resume] [--checkpoints DIR] "
                + "[--minutes M] [--epochs E] [--batch B] [--seed S] [--lr R] [--lr-anneal-steps N] [--lr-cycle-start S] "
                + "[--ema-decay D] [--class-dropout P] [--base-channels C]",
                TrainCli::main));
        COMMANDS.put("eval", new Command(EvalCli.USAGE, EvalCli::main));
        COMMANDS.put("bench", new Command("bench model [--model DIR] [--out FILE] | bench farm [--out FILE] | "
                + LoadBench.USAGE + " | " + AugmentationBench.USAGE, args -> {
                    if (args.length > 0 && args[0].equals("farm")) {
                        FarmBench.main(args);
                    } else if (args.length > 0 && args[0].equals("load")) {
                        LoadBench.main(Arrays.copyOfRange(args, 1, args.length));
                    } else if (args.length > 0 && args[0].equals("augmentation")) {
                        AugmentationBench.main(Arrays.copyOfRange(args, 1, args.length));
                    } else {
                        BenchCli.main(args);
                    }
                }));
    }

    private Main() {
    }

    /** The HTTP client commands (FARM_URL, FARM_API_KEY); their exit status is the process's. */
    private static void clientCommand(String name, String[] args) {
        String[] withName = new String[args.length + 1];
        withName[0] = name;
        System.arraycopy(args, 0, withName, 1, args.length);
        ClientCli.main(withName);
    }

    public static void main(String[] args) throws Exception {
        Command command = args.length == 0 ? null : COMMANDS.get(args[0]);
        if (command == null) {
            System.err.println("usage: scripts/farm <command> [options]\n\ncommands:");
            COMMANDS.values().forEach(c -> System.err.println("  " + c.usage()));
            System.exit(args.length == 0 || args[0].equals("help") || args[0].equals("--help") ? 0 : 2);
            return;
        }
        try {
            command.entryPoint().run(Arrays.copyOfRange(args, 1, args.length));
        } catch (IllegalArgumentException e) {
            System.err.println("farm " + args[0] + ": " + e.getMessage());
            System.exit(2);
        }
    }
}

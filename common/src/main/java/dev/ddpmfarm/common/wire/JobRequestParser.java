package dev.ddpmfarm.common.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonMappingException.Reference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ddpmfarm.common.model.ModelCard;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a request body into a valid {@link JobRequest} or into the complete list of what is wrong with it.
 * <p>
 * Jackson stops at the first bad member, so the parser binds the JSON tree repeatedly: each failure (a wrong type,
 * an unknown member or enum value, a value rejected by a compact constructor) is recorded under its field and that
 * member is removed from the tree, until the rest binds. The bound request (whose removed members took their
 * defaults) is then checked against its model with {@link JobRequest#validate(ModelCard)}, so one answer names every
 * bad field. (The model checks need a bound request: when a required member is missing or had to be pruned, the
 * answer lists every other error but not those that depend on the model.) Nothing here knows HTTP; {@link Rejection#reason()} says which kind of failure it was.
 */
public final class JobRequestParser {

    /** Why a body was refused. */
    public enum Reason {
        /** Not JSON, or not a JSON object (HTTP 400). */
        MALFORMED,
        /** Well-formed JSON whose members are wrong (HTTP 422). */
        INVALID,
        /** Valid except that it names a model that does not exist (HTTP 404). */
        UNKNOWN_MODEL
    }

    /** The outcome of {@link #parse}. */
    public sealed interface Result permits Accepted, Rejection {
    }

    /** A valid request and the card of its model. */
    public record Accepted(JobRequest request, ModelCard model) implements Result {
    }

    /** A refused request: every bad field, and a one-line summary. */
    public record Rejection(Reason reason, String detail, List<FieldError> errors) implements Result {
        public Rejection {
            errors = List.copyOf(errors);
        }
    }

    private static final int MAX_ROUNDS = 256;
    private static final Pattern INDEXED = Pattern.compile("^([^.\\[]+)\\[(\\d+)](.*)$");
    /** One step of a field path: a member name or an array index. */
    private static final Pattern SEGMENT = Pattern.compile("([^.\\[\\]]+)|\\[(\\d+)]");

    private final ObjectMapper mapper = Wire.mapper();
    private final Function<String, Optional<ModelCard>> models;

    /** @param models finds a model's card by its id */
    public JobRequestParser(Function<String, Optional<ModelCard>> models) {
        this.models = models;
    }

    /** Parses and validates a UTF-8 JSON body. */
    public Result parse(byte[] body) {
        JsonNode tree;
        try {
            tree = mapper.readTree(body);
        } catch (IOException e) {
            return malformed("the body is not valid JSON: " + Wire.describe(e));
        }
        if (tree == null || !tree.isObject()) {
            return malformed("the body must be a JSON object");
        }
        return bind((ObjectNode) tree);
    }

    private static Rejection malformed(String detail) {
        return new Rejection(Reason.MALFORMED, detail, List.of(new FieldError("", detail)));
    }

    private Result bind(ObjectNode tree) {
        Pruning pruning = new Pruning(tree);
        for (int round = 0; round < MAX_ROUNDS; round++) {
            try {
                JobRequest request = mapper.treeToValue(tree, JobRequest.class);
                return pruning.errors.isEmpty() ? checkModel(request)
                        : invalid(pruning.errors, checkModelQuietly(request, pruning));
            } catch (InvalidTypeIdException e) {
                pruning.errors.add(new FieldError("type", (tree.has("type") ? "unknown type '"
                        + tree.get("type").asText() + "'" : "required") + "; one of " + WireEnum.names(JobType.class)));
                return invalid(pruning.errors, List.of());
            } catch (ValueInstantiationException e) {
                List<Reference> at = e.getPath();
                List<FieldError> found = e.getCause() instanceof ValidationException v ? v.errors()
                        : List.of(new FieldError("", rootMessage(e)));
                boolean removed = false;
                if (pruning.firstComplaint(at)) {
                    found.forEach(fe -> pruning.report(pruning.original(at, fe.field()), fe.message()));
                    for (int i = found.size() - 1; i >= 0; i--) {
                        removed |= pruning.removeMember(at, found.get(i).field());
                    }
                }
                if (!removed && !pruning.remove(at)) {
                    return invalid(pruning.errors, List.of());
                }
            } catch (JsonMappingException e) {
                List<Reference> at = e.getPath();
                pruning.report(pruning.original(at), message(e));
                if (!pruning.remove(at)) {
                    return invalid(pruning.errors, List.of());
                }
            } catch (JsonProcessingException e) {
                return malformed(Wire.describe(e));
            }
        }
        return invalid(pruning.errors, List.of());
    }

    private Result checkModel(JobRequest request) {
        Optional<ModelCard> card = models.apply(request.model());
        if (card.isEmpty()) {
            FieldError unknown = new FieldError("model", "unknown model '" + request.model() + "'");
            return new Rejection(Reason.UNKNOWN_MODEL, unknown.message(), List.of(unknown));
        }
        List<FieldError> errors = request.validate(card.get());
        return errors.isEmpty() ? new Accepted(request, card.get()) : invalid(errors, List.of());
    }

    /** The model checks of a request bound after pruning, minus fields that already have an error. */
    private List<FieldError> checkModelQuietly(JobRequest request, Pruning pruning) {
        Optional<ModelCard> card = models.apply(request.model());
        if (card.isEmpty()) {
            return pruning.covered("model") ? List.of()
                    : List.of(new FieldError("model", "unknown model '" + request.model() + "'"));
        }
        return request.validate(card.get()).stream().map(e -> new FieldError(pruning.original(e.field()), e.message()))
                .filter(e -> !pruning.covered(e.field())).toList();
    }

    private static Rejection invalid(List<FieldError> errors, List<FieldError> more) {
        List<FieldError> all = new ArrayList<>(errors);
        all.addAll(more);
        return invalid(all);
    }

    /** The 422 refusal of a request with these field errors (checks made outside the parser use it too). */
    public static Rejection invalid(List<FieldError> all) {
        String detail = all.size() == 1 ? "invalid field " + describe(all.get(0))
                : all.size() + " invalid fields: " + all.stream().map(JobRequestParser::describe)
                .reduce((a, b) -> a + ", " + b).orElse("");
        return new Rejection(Reason.INVALID, detail, all);
    }

    private static String describe(FieldError e) {
        return e.field().isEmpty() ? "(body)" : e.field();
    }

    private static String message(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field; known fields: " + String.join(", ",
                    u.getKnownPropertyIds().stream().map(Object::toString).sorted().toList());
        }
        return rootMessage(e);
    }

    /** Jackson's message without its location suffix and source excerpt, or the constructor's own message. */
    private static String rootMessage(JsonMappingException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
            return cause.getMessage();
        }
        String m = e.getOriginalMessage();
        int cut = m.indexOf("\n");
        return cut < 0 ? m : m.substring(0, cut);
    }

    /**
     * The errors found so far and the members removed from the tree because of them. Array elements that went are
     * remembered, so that later errors inside the same array are reported at the index of the body the client sent;
     * errors about a member that was itself removed are consequences of the pruning and are not reported.
     */
    private static final class Pruning {
        final List<FieldError> errors = new ArrayList<>();
        private final ObjectNode root;
        private final List<String> removed = new ArrayList<>();
        private final Set<String> complained = new HashSet<>();
        private final Map<JsonNode, List<Integer>> removedFromArray = new IdentityHashMap<>();

        Pruning(ObjectNode root) {
            this.root = root;
        }

        /**
         * True the first time the constructor of the object at {@code at} fails. A constructor reports all its
         * errors at once, so a later failure of the same object only follows from members pruned before.
         */
        boolean firstComplaint(List<Reference> at) {
            return complained.add(original(at));
        }

        void report(String field, String message) {
            if (!covered(field)) {
                errors.add(new FieldError(field, message));
            }
        }

        private static boolean covers(String outer, String field) {
            return outer.isEmpty() || field.equals(outer) || field.startsWith(outer + ".")
                    || field.startsWith(outer + "[");
        }

        /** Whether {@code field} is, or lies inside, a member that already has an error or was removed. */
        boolean covered(String field) {
            return removed.stream().anyMatch(r -> covers(r, field))
                    || errors.stream().anyMatch(e -> covers(e.field(), field));
        }

        /** The field path of {@code at} in the body as sent. */
        String original(List<Reference> at) {
            StringBuilder sb = new StringBuilder();
            JsonNode node = root;
            for (Reference r : at) {
                if (r.getFieldName() != null) {
                    sb.append(sb.length() > 0 ? "." : "").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    sb.append('[').append(originalIndex(node, r.getIndex())).append(']');
                }
                node = node == null ? null : step(node, r);
            }
            return sb.toString();
        }

        /** The path in the body as sent of a constructor's {@code field}, relative to the object at {@code at}. */
        String original(List<Reference> at, String field) {
            String prefix = original(at);
            Matcher m = INDEXED.matcher(field);
            if (!m.matches()) {
                return new FieldError(field, "-").under(prefix).field();
            }
            JsonNode owner = find(at);
            JsonNode array = owner == null ? null : owner.get(m.group(1));
            String relative = m.group(1) + "[" + originalIndex(array, Integer.parseInt(m.group(2))) + "]" + m.group(3);
            return new FieldError(relative, "-").under(prefix).field();
        }

        /**
         * The path in the body as sent of {@code field}, a path from the root of the tree as bound (array indices
         * there count without the elements removed).
         */
        String original(String field) {
            StringBuilder sb = new StringBuilder();
            JsonNode node = root;
            Matcher m = SEGMENT.matcher(field);
            while (m.find()) {
                if (m.group(1) != null) {
                    sb.append(sb.length() > 0 ? "." : "").append(m.group(1));
                    node = node == null ? null : node.get(m.group(1));
                } else {
                    int index = Integer.parseInt(m.group(2));
                    sb.append('[').append(originalIndex(node, index)).append(']');
                    node = node == null ? null : node.get(index);
                }
            }
            return sb.toString();
        }

        /** Removes the node at {@code at}; false for the root or a node that is not there. */
        boolean remove(List<Reference> at) {
            if (at.isEmpty()) {
                return false;
            }
            String path = original(at);
            Reference last = at.get(at.size() - 1);
            JsonNode parent = find(at.subList(0, at.size() - 1));
            if (parent instanceof ObjectNode o && last.getFieldName() != null && o.remove(last.getFieldName()) != null) {
                removed.add(path);
                return true;
            }
            if (parent instanceof ArrayNode a && last.getIndex() >= 0 && last.getIndex() < a.size()) {
                List<Integer> gone = removedFromArray.computeIfAbsent(a, k -> new ArrayList<>());
                gone.add(originalIndex(a, last.getIndex()));
                gone.sort(null);
                a.remove(last.getIndex());
                removed.add(path);
                return true;
            }
            return false;
        }

        /**
         * Removes what a constructor's {@code field} (relative to the object at {@code at}) names: the array element
         * for {@code member[i]}, else the member.
         */
        boolean removeMember(List<Reference> at, String field) {
            JsonNode owner = find(at);
            Matcher m = INDEXED.matcher(field);
            if (m.matches() && m.group(3).isEmpty() && owner != null && owner.get(m.group(1)) instanceof ArrayNode) {
                List<Reference> element = new ArrayList<>(at);
                element.add(new Reference(owner, m.group(1)));
                element.add(new Reference(owner.get(m.group(1)), Integer.parseInt(m.group(2))));
                return remove(element);
            }
            String member = field.split("[.\\[]", 2)[0];
            if (owner instanceof ObjectNode o && !member.isEmpty() && o.has(member)) {
                removed.add(new FieldError(member, "-").under(original(at)).field());
                o.remove(member);
                return true;
            }
            return false;
        }

        private JsonNode find(List<Reference> at) {
            JsonNode node = root;
            for (Reference r : at) {
                node = node == null ? null : step(node, r);
            }
            return node;
        }

        private static JsonNode step(JsonNode node, Reference r) {
            return r.getFieldName() != null ? node.get(r.getFieldName()) : node.get(r.getIndex());
        }

        private int originalIndex(JsonNode array, int index) {
            int original = index;
            for (int gone : removedFromArray.getOrDefault(array, List.of())) {
                if (gone <= original) {
                    original++;
                }
            }
            return original;
        }
    }
}

package dev.ddpmfarm.gateway;

import dev.ddpmfarm.common.wire.FieldError;
import dev.ddpmfarm.common.wire.Wire;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * Error responses as {@code application/problem+json} (RFC 9457; SPEC §3): {@code type, title, status, detail} and,
 * for invalid input, {@code errors: [{field, message}]}. Details are written for the client: no stack trace, no
 * secret, no internal host name.
 */
final class Problems {

    /** The body of an error response. */
    record Problem(String type, String title, int status, String detail, List<FieldError> errors) {
    }

    private Problems() {
    }

    static void send(RoutingContext ctx, int status, String slug, String title, String detail) {
        send(ctx, status, slug, title, detail, null);
    }

    static void send(RoutingContext ctx, int status, String slug, String title, String detail,
                     List<FieldError> errors) {
        if (ctx.response().headWritten()) {
            ctx.response().reset();
            return;
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/problem+json")
                .end(Wire.toJson(new Problem("/problems/" + slug, title, status, detail, errors)));
    }

    static void notFound(RoutingContext ctx, String detail) {
        send(ctx, 404, "not-found", "Not Found", detail);
    }

    static void badRequest(RoutingContext ctx, String field, String message) {
        send(ctx, 400, "invalid-request", "Bad Request", field + ": " + message,
                List.of(new FieldError(field, message)));
    }

    static void unauthorized(RoutingContext ctx) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"ddpm-farm\"");
        send(ctx, 401, "unauthorized", "Unauthorized",
                "send an API key as 'Authorization: Bearer <key>' (WebSocket: subprotocol 'bearer.<key>')");
    }

    static void unavailable(RoutingContext ctx, String detail) {
        ctx.response().putHeader("Retry-After", "5");
        send(ctx, 503, "unavailable", "Service Unavailable", detail);
    }
}

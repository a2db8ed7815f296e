import { type IRequest, Router } from "itty-router";
import { ERRORS } from "./contract/errors";
import { ALLOW_HEADER } from "./contract/headers";
import { errorResponse, fail } from "./errors";
import { requireAdmin, requireFeedReader, requireToken } from "./http/auth";
import { preflight, withCors } from "./http/cors";
import { rateLimit } from "./http/rate-limit";
import { beginRequest, logRequest, noteError } from "./http/request-log";
import { deleteContact, getContact } from "./routes/contact";
import { getDelivery } from "./routes/delivery";
import { erase } from "./routes/erase";
import { getEvents } from "./routes/events";
import { deleteSeparation, getExplain, getGraph, getSeparations } from "./routes/graph";
import { health } from "./routes/health";
import { getHistory } from "./routes/history";
import { identify } from "./routes/identify";
import { lookup } from "./routes/lookup";
import { openApi } from "./routes/openapi";
import { unmerge } from "./routes/unmerge";

export { WebhookDispatcher } from "./durable/dispatcher";
export { ClusterReconciler } from "./durable/reconciler";

/** Answers a known path called with the wrong method (docs/contract.md: 405 with `Allow`). */
const onlyAllow = (allow: string) => () => {
  throw fail("method_not_allowed", {
    message: ERRORS.method_not_allowed.variants.allow(allow),
    headers: { [ALLOW_HEADER]: allow },
  });
};

type Handler = (request: IRequest, env: Env) => Promise<Response>;

/** A route handler that runs only once `check` has let the request's token through (else 403). */
const guarded =
  (check: (request: IRequest) => void) =>
  (handler: Handler): Handler =>
  (request, env) => {
    check(request);
    return handler(request, env);
  };

/** Admin tokens only. */
const adminOnly = guarded(requireAdmin);
/** The change feed: feed and admin tokens. */
const feedOnly = guarded(requireFeedReader);

/** The paths served, as the request log names them (anything else is logged as "*"). */
const ROUTES = [
  "/identify",
  "/lookup",
  "/erase",
  "/contacts/:id",
  "/contacts/:id/history",
  "/events",
  "/events/delivery",
  "/contacts/:id/graph",
  "/contacts/:id/explain",
  "/contacts/:id/separations",
  "/contacts/:id/unmerge",
  "/separations/:id",
  "/health",
  "/openapi.json",
];
/**
 * The paths open without a token; every other path, served or not, needs one.
 * The API description holds no personal data, and the public /docs page loads it.
 */
const PUBLIC_PATHS = ["/health", "/openapi.json"];
/** The only paths a feed token (FEED_TOKENS) reaches. */
const FEED_PATHS = ["/events"];

const router = Router<IRequest, [Env, ExecutionContext]>({
  before: [beginRequest(ROUTES), preflight, requireToken(PUBLIC_PATHS, FEED_PATHS), rateLimit],
  catch: (err, request) => {
    noteError(request, err);
    return errorResponse(err);
  },
  finally: [withCors, logRequest],
});

router
  .post("/identify", (request, env) => identify(request, env))
  .all("/identify", onlyAllow("POST"))
  .post("/lookup", (request, env) => lookup(request, env))
  .all("/lookup", onlyAllow("POST"))
  .get("/contacts/:id", adminOnly(getContact))
  .delete("/contacts/:id", adminOnly(deleteContact))
  .all("/contacts/:id", onlyAllow("GET, DELETE"))
  .post("/erase", adminOnly(erase))
  .all("/erase", onlyAllow("POST"))
  .get("/contacts/:id/history", adminOnly(getHistory))
  .all("/contacts/:id/history", onlyAllow("GET"))
  .get("/events", feedOnly(getEvents))
  .all("/events", onlyAllow("GET"))
  .get("/events/delivery", adminOnly(getDelivery))
  .all("/events/delivery", onlyAllow("GET"))
  .get("/contacts/:id/graph", adminOnly(getGraph))
  .all("/contacts/:id/graph", onlyAllow("GET"))
  .get("/contacts/:id/explain", adminOnly(getExplain))
  .all("/contacts/:id/explain", onlyAllow("GET"))
  .get("/contacts/:id/separations", adminOnly(getSeparations))
  .all("/contacts/:id/separations", onlyAllow("GET"))
  .post("/contacts/:id/unmerge", adminOnly(unmerge))
  .all("/contacts/:id/unmerge", onlyAllow("POST"))
  .delete("/separations/:id", adminOnly(deleteSeparation))
  .all("/separations/:id", onlyAllow("DELETE"))
  .get("/health", health)
  .head("/health", health)
  .all("/health", onlyAllow("GET, HEAD"))
  .get("/openapi.json", openApi)
  .all("/openapi.json", onlyAllow("GET"))
  .all("*", () => {
    throw fail("not_found");
  });

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;

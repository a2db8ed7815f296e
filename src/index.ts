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

type Handler = (request: IRequest, env: Env) => Promise<Response> | Response;
type Method = "GET" | "HEAD" | "POST" | "DELETE";

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

/**
 * Every path served and its methods: the one list the router and the request log both read
 * (the log names a request by its path here, anything else as "*").
 */
const ROUTES: readonly { path: string; methods: Partial<Record<Method, Handler>> }[] = [
  { path: "/identify", methods: { POST: identify } },
  { path: "/lookup", methods: { POST: lookup } },
  { path: "/erase", methods: { POST: adminOnly(erase) } },
  { path: "/contacts/:id", methods: { GET: adminOnly(getContact), DELETE: adminOnly(deleteContact) } },
  { path: "/contacts/:id/history", methods: { GET: adminOnly(getHistory) } },
  { path: "/events", methods: { GET: feedOnly(getEvents) } },
  { path: "/events/delivery", methods: { GET: adminOnly(getDelivery) } },
  { path: "/contacts/:id/graph", methods: { GET: adminOnly(getGraph) } },
  { path: "/contacts/:id/explain", methods: { GET: adminOnly(getExplain) } },
  { path: "/contacts/:id/separations", methods: { GET: adminOnly(getSeparations) } },
  { path: "/contacts/:id/unmerge", methods: { POST: adminOnly(unmerge) } },
  { path: "/separations/:id", methods: { DELETE: adminOnly(deleteSeparation) } },
  { path: "/health", methods: { GET: health, HEAD: health } },
  { path: "/openapi.json", methods: { GET: openApi } },
];
/**
 * The paths open without a token; every other path, served or not, needs one.
 * The API description holds no personal data, and the public /docs page loads it.
 */
const PUBLIC_PATHS = ["/health", "/openapi.json"];
/** The only paths a feed token (FEED_TOKENS) reaches. */
const FEED_PATHS = ["/events"];

const router = Router<IRequest, [Env, ExecutionContext]>({
  before: [beginRequest(ROUTES.map(({ path }) => path)), preflight, requireToken(PUBLIC_PATHS, FEED_PATHS), rateLimit],
  catch: (err, request) => {
    noteError(request, err);
    return errorResponse(err);
  },
  finally: [withCors, logRequest],
});

for (const { path, methods } of ROUTES) {
  for (const [method, handler] of Object.entries(methods)) router[method.toLowerCase()](path, handler);
  // A known path called with another method: 405 with `Allow` (docs/contract.md).
  const allow = Object.keys(methods).join(", ");
  router.all(path, () => {
    throw fail("method_not_allowed", {
      message: ERRORS.method_not_allowed.variants.allow(allow),
      headers: { [ALLOW_HEADER]: allow },
    });
  });
}
router.all("*", () => {
  throw fail("not_found");
});

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;

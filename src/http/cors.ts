import { CORS_EXPOSED_HEADERS, CORS_REQUEST_HEADERS } from "../contract/headers";
import { commaSeparated } from "../text";
import { withHeaders } from "./headers";
import { requestFacts } from "./request-facts";

const ALLOW_METHODS = "GET, HEAD, POST, DELETE, OPTIONS";
const ALLOW_HEADERS = CORS_REQUEST_HEADERS.join(", ");
const EXPOSE_HEADERS = CORS_EXPOSED_HEADERS.join(", ");
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/** The origins of `ALLOWED_ORIGINS` (comma-separated, exact `scheme://host[:port]`); none means CORS is off. */
function allowedOrigins(env: Env): string[] {
  return commaSeparated(env.ALLOWED_ORIGINS).map((origin) => origin.toLowerCase());
}

/** The request's `Origin` if CORS is on and it is one of ours, else undefined. */
function allowedOrigin(request: Request, env: Env): string | undefined {
  const origin = request.headers.get("origin")?.toLowerCase();
  return origin !== undefined && allowedOrigins(env).includes(origin) ? origin : undefined;
}

/**
 * Router hook: answers a CORS preflight from an allowed origin with 204 before
 * authentication (browsers send no credentials on a preflight). Any other request,
 * including a preflight from another origin, goes on through the router.
 */
export function preflight(request: Request, env: Env): Response | undefined {
  if (request.method !== "OPTIONS" || !request.headers.has("access-control-request-method")) return undefined;
  const origin = allowedOrigin(request, env);
  if (origin === undefined) return undefined;
  requestFacts(request).outcome = "preflight";
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": ALLOW_METHODS,
      "Access-Control-Allow-Headers": ALLOW_HEADERS,
      "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
      Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    },
  });
}

/**
 * Router `finally` hook: when CORS is on, lets an allowed origin read the answer
 * (errors included) and marks every answer as varying by `Origin` for caches.
 */
export function withCors(response: Response, request: Request, env: Env): Response {
  if (allowedOrigins(env).length === 0 || response.headers.has("access-control-allow-origin")) return response;
  const origin = allowedOrigin(request, env);
  return withHeaders(response, (headers) => {
    headers.append("Vary", "Origin");
    if (origin === undefined) return;
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  });
}

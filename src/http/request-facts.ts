import type { Ignored } from "../domain/blocking";
import type { Identifiers } from "../domain/contact";
import type { Outcome } from "../domain/reconcile";

/** Who a token speaks for: a caller (`API_TOKENS`), a feed consumer (`FEED_TOKENS`) or an operator (`ADMIN_TOKENS`). */
type Scope = "caller" | "feed" | "admin";

/** Storage work of one request, as the request log reports it. */
type StorageUsage = { d1RoundTrips: number; d1Statements: number; objectCalls: number };

/**
 * What the request log needs to know about one request, gathered as it goes
 * through the router. Raw identifiers are kept only so the log can hash them.
 */
export type RequestFacts = {
  /**
   * Ours, always generated here: the answer's `X-Request-Id`, the log line's `requestId` and
   * the id stored with the events a write records (permanent history, kept through erasure).
   */
  requestId: string;
  /**
   * The caller's own `X-Request-Id`, for the log line only: never stored, never echoed.
   * Raw only when short, plain and shaped like no identifier; otherwise only its keyed hash.
   */
  callerRequestId?: { raw: string } | { hashed: string };
  startedAt: number;
  /** The route pattern, or "*" for a path the service does not serve: never the raw path. */
  route: string;
  /** What the reconciliation did, `ok`/`preflight` for other successes, else the error code. */
  outcome: Outcome | string;
  /** Undefined while unknown: a request that failed in storage cannot say what it did there. */
  storage: StorageUsage | undefined;
  identifiers?: Identifiers;
  /** Fields the merge protection left out, with the blocking rule's name: never the value. */
  ignored?: readonly Ignored[];
  /**
   * The fingerprint of the bearer token that authenticated the request (the first 8
   * bytes of its SHA-256, in hex): the rate limiter's key and the log's `tokenId`.
   */
  caller?: string;
  /** What the token may reach: `caller` routes, `GET /events` (`feed`), or every route (`admin`). */
  scope?: Scope;
  /** A short, personal-data-free reason that the status alone does not tell. */
  detail?: string;
};

// Keyed by the request object itty-router hands to every hook, so that no field
// has to be added to the platform's Request type.
const factsByRequest = new WeakMap<Request, RequestFacts>();

/**
 * The facts of `request`, created on first use (by the request log's first hook)
 * with a generated request id and the start time.
 */
export function requestFacts(request: Request): RequestFacts {
  let facts = factsByRequest.get(request);
  if (!facts) {
    facts = {
      requestId: crypto.randomUUID(),
      startedAt: Date.now(),
      route: "*",
      outcome: "ok",
      // Until a route says otherwise, a request touches no storage.
      storage: { d1RoundTrips: 0, d1Statements: 0, objectCalls: 0 },
    };
    factsByRequest.set(request, facts);
  }
  return facts;
}

/** The path as routed: itty-router ignores trailing slashes, so the checks made before routing do too. */
export function routedPath(request: Request): string {
  const path = new URL(request.url).pathname.replace(/\/+$/, "");
  return path === "" ? "/" : path;
}

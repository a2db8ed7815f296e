import { ERRORS } from "../contract/errors";
import { WWW_AUTHENTICATE_HEADER } from "../contract/headers";
import { fail, type HttpError } from "../errors";
import { commaSeparated, hex } from "../text";
import { requestFacts, routedPath } from "./request-facts";

/** What a 401 answers in `WWW-Authenticate` (RFC 6750). */
const AUTH_CHALLENGE = 'Bearer realm="identity"';

const BEARER = /^Bearer +(\S+) *$/i;
const encoder = new TextEncoder();

function unauthorized(detail: "missing_token" | "invalid_token" | "not_configured", request: Request): HttpError {
  requestFacts(request).detail = detail;
  // Without tokens nobody can be let in; the caller is told the same as for a wrong
  // token, so that an unconfigured deployment does not advertise itself.
  const challenge = detail === "missing_token" ? AUTH_CHALLENGE : `${AUTH_CHALLENGE}, error="invalid_token"`;
  return fail("unauthorized", { headers: { [WWW_AUTHENTICATE_HEADER]: challenge } });
}

/** The tokens of a token secret: comma-separated, so that two can be valid during a rotation. */
export function configuredTokens(secret: string | undefined): string[] {
  return commaSeparated(secret);
}

const sha256 = async (text: string): Promise<ArrayBuffer> => crypto.subtle.digest("SHA-256", encoder.encode(text));

// Hashing the configured tokens once per isolate, not once per request; keyed by the
// secret's text so that a new value (a rotation) is picked up. Two secrets are in use at
// a time; a few more entries only live through a rotation.
const configured = new Map<string, Promise<ArrayBuffer[]>>();

function configuredDigests(secret: string): Promise<ArrayBuffer[]> {
  let digests = configured.get(secret);
  if (!digests) {
    if (configured.size >= 8) configured.clear();
    digests = Promise.all(configuredTokens(secret).map(sha256));
    configured.set(secret, digests);
  }
  return digests;
}

/**
 * A presented token that two token lists hold: not a caller's mistake but the operator's,
 * so the request is refused as a 500 (an unexpected error), whose log line carries this
 * message and the token's `tokenId`.
 */
export class SharedTokenError extends Error {
  constructor(lists: readonly string[]) {
    super(`the token is in ${lists.join(" and ")}: refused (fail closed) until one list drops it`);
    this.name = "SharedTokenError";
  }
}

/**
 * The fingerprint of the configured token equal to `presented`, if any. Both sides
 * are hashed first so that `timingSafeEqual` compares equal lengths, and every
 * configured token is compared, so the time taken tells nothing about which matched.
 */
export async function matchToken(presented: string, secret: string): Promise<string | undefined> {
  return matchDigest(await sha256(presented), secret);
}

/** matchToken for a presented token already hashed: one hash serves every token list. */
async function matchDigest(digest: ArrayBuffer, secret: string): Promise<string | undefined> {
  const digests = await configuredDigests(secret);
  let match: string | undefined;
  for (const candidate of digests) {
    if (crypto.subtle.timingSafeEqual(candidate, digest)) match ??= hex(candidate).slice(0, 16);
  }
  return match;
}

/** The token secrets, by the scope each grants; every one is compared on every request. */
const TOKEN_SECRETS = [
  ["caller", "API_TOKENS"],
  ["admin", "ADMIN_TOKENS"],
  ["feed", "FEED_TOKENS"],
] as const;

/**
 * Router hook: lets a request through only with a bearer token from `ADMIN_TOKENS`,
 * `API_TOKENS` or `FEED_TOKENS`, except on `publicPaths`. Fails closed: with no token
 * configured every call is refused. Records the token's fingerprint (the rate limiter's key)
 * and its scope (what `requireAdmin` and `requireFeedReader` check); a feed token reaches
 * `feedPaths` only. Every list is always compared, so the time taken does not tell which one
 * a token belongs to. A token that two lists hold is refused, never given either scope.
 * @throws HttpError 401 with `WWW-Authenticate`, 403 `forbidden` for a feed token off the
 * feed; SharedTokenError (a 500) for a token in two lists.
 */
export function requireToken(publicPaths: readonly string[], feedPaths: readonly string[]) {
  return async (request: Request, env: Env): Promise<undefined> => {
    const path = routedPath(request);
    if (publicPaths.includes(path)) return undefined;

    const secrets = TOKEN_SECRETS.map(([, name]) => env[name] ?? "");
    // The cached digests tell whether any token is configured, without splitting the secrets again.
    const configuredLists = await Promise.all(secrets.map(configuredDigests));
    if (configuredLists.every((digests) => digests.length === 0)) throw unauthorized("not_configured", request);

    const presented = BEARER.exec(request.headers.get("authorization") ?? "")?.[1];
    if (presented === undefined) {
      throw unauthorized(request.headers.has("authorization") ? "invalid_token" : "missing_token", request);
    }
    const digest = await sha256(presented);
    const fingerprints = await Promise.all(secrets.map((secret) => matchDigest(digest, secret)));
    const matched = TOKEN_SECRETS.flatMap(([scope, name], i) => {
      const fingerprint = fingerprints[i];
      return fingerprint === undefined ? [] : [{ scope, name, fingerprint }];
    });
    const [match, ...others] = matched;
    if (match === undefined) throw unauthorized("invalid_token", request);
    const facts = requestFacts(request);
    // The log's tokenId tells the operator which token to take out of one list.
    facts.caller = match.fingerprint;
    if (others.length > 0) throw new SharedTokenError(matched.map(({ name }) => name));
    facts.scope = match.scope;
    if (match.scope === "feed" && !feedPaths.includes(path)) {
      throw forbidden(request, "feed_token_off_feed", ERRORS.forbidden.variants.feedOnly);
    }
    return undefined;
  };
}

function forbidden(request: Request, detail: string, message?: string): HttpError {
  requestFacts(request).detail = detail;
  return fail("forbidden", { message });
}

/**
 * The check of the operator routes (contacts by id, erasure, history): a caller's token
 * authenticates, but does not reach them.
 * @throws HttpError 403 `forbidden`.
 */
export function requireAdmin(request: Request): void {
  if (requestFacts(request).scope === "admin") return;
  throw forbidden(request, "caller_token_on_admin_route");
}

/**
 * The check of the change feed (`GET /events`): feed and admin tokens read it, a caller's
 * token does not.
 * @throws HttpError 403 `forbidden`.
 */
export function requireFeedReader(request: Request): void {
  const { scope } = requestFacts(request);
  if (scope === "feed" || scope === "admin") return;
  throw forbidden(request, "caller_token_on_feed", ERRORS.forbidden.variants.feed);
}

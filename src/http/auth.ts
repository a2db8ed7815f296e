import { HttpError } from "../errors";
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
  return new HttpError(401, "unauthorized", "A valid bearer token is required: send Authorization: Bearer <token>.", {
    headers: { "WWW-Authenticate": challenge },
  });
}

/** The tokens of the `API_TOKENS` secret: comma-separated, so that two can be valid during a rotation. */
export function configuredTokens(secret: string | undefined): string[] {
  return commaSeparated(secret);
}

const sha256 = async (text: string): Promise<ArrayBuffer> => crypto.subtle.digest("SHA-256", encoder.encode(text));

// Hashing the configured tokens once per isolate, not once per request; keyed by the
// secret's text so that a new value (a rotation) is picked up.
let configured: { secret: string; digests: Promise<ArrayBuffer[]> } | undefined;

function configuredDigests(secret: string): Promise<ArrayBuffer[]> {
  if (configured?.secret !== secret) {
    configured = { secret, digests: Promise.all(configuredTokens(secret).map(sha256)) };
  }
  return configured.digests;
}

/**
 * The fingerprint of the configured token equal to `presented`, if any. Both sides
 * are hashed first so that `timingSafeEqual` compares equal lengths, and every
 * configured token is compared, so the time taken tells nothing about which matched.
 */
export async function matchToken(presented: string, secret: string): Promise<string | undefined> {
  const [digest, digests] = await Promise.all([sha256(presented), configuredDigests(secret)]);
  let match: string | undefined;
  for (const candidate of digests) {
    if (crypto.subtle.timingSafeEqual(candidate, digest)) match ??= hex(candidate).slice(0, 16);
  }
  return match;
}

/**
 * Router hook: lets a request through only with a bearer token from `API_TOKENS`,
 * except on `publicPaths`. Fails closed: with no token configured every call is refused.
 * Records the token's fingerprint for the rate limiter.
 * @throws HttpError 401 with `WWW-Authenticate`.
 */
export function requireToken(publicPaths: readonly string[]) {
  return async (request: Request, env: Env): Promise<undefined> => {
    if (publicPaths.includes(routedPath(request))) return undefined;

    const secret = env.API_TOKENS ?? "";
    if (configuredTokens(secret).length === 0) throw unauthorized("not_configured", request);

    const presented = BEARER.exec(request.headers.get("authorization") ?? "")?.[1];
    if (presented === undefined) {
      throw unauthorized(request.headers.has("authorization") ? "invalid_token" : "missing_token", request);
    }
    const caller = await matchToken(presented, secret);
    if (caller === undefined) throw unauthorized("invalid_token", request);
    requestFacts(request).caller = caller;
    return undefined;
  };
}

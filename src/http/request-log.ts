import { REQUEST_ID_HEADER } from "../contract/headers";
import type { D1Usage } from "../db/metered";
import type { Ignored } from "../domain/blocking";
import type { Identifiers } from "../domain/contact";
import type { Outcome } from "../domain/reconcile";
import { HttpError } from "../errors";
import { hex } from "../text";
import { withHeaders } from "./headers";
import { type RequestFacts, requestFacts, routedPath } from "./request-facts";

// A caller's id is logged as given only if it cannot smuggle anything into the log line.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
// The longest caller id hashed: anything longer is cut first (the hash still tells equal ids apart).
const MAX_HASHED_REQUEST_ID = 1024;

/** A route pattern as a regular expression: each `:name` segment matches one path segment. */
const patternOf = (route: string) => new RegExp(`^${route.replace(/:[a-z]+/gi, "[^/]+")}$`);

/**
 * Router hook, first of all: stamps the request with its id (ours, generated: a caller's
 * `X-Request-Id` is kept aside for the log line only) and start time, and
 * with its route pattern among `routes` ("*" otherwise; `/contacts/:id` for
 * `/contacts/7`), so that even a request refused before routing is logged under a
 * route and never under its raw path, which may carry a contact id.
 */
export function beginRequest(routes: readonly string[]) {
  const patterns = routes.map((route) => ({ route, pattern: patternOf(route) }));
  return (request: Request): undefined => {
    const facts = requestFacts(request);
    const given = request.headers.get(REQUEST_ID_HEADER) ?? "";
    // A caller may trace by phone number or email: such an id, or an odd one, is logged
    // only as its keyed hash (logRequest), never as given.
    if (SANE_REQUEST_ID.test(given) && redact(given) === given) facts.callerRequestId = { raw: given };
    else if (given !== "") facts.callerRequestId = { hashed: given.slice(0, MAX_HASHED_REQUEST_ID) };
    const path = routedPath(request);
    facts.route = patterns.find(({ pattern }) => pattern.test(path))?.route ?? "*";
    return undefined;
  };
}

/** Records the identifiers a request carries, for the keyed hashes of the log line. */
export function noteIdentifiers(request: Request, identifiers: Identifiers): void {
  const facts = requestFacts(request);
  facts.identifiers = identifiers;
  // From here on the request works in storage; until it says what it did, that is unknown.
  facts.storage = undefined;
}

/** Records the fields the merge protection left out, for the log line (rule names, never values). */
export function noteIgnored(request: Request, ignored: readonly Ignored[]): void {
  requestFacts(request).ignored = ignored;
}

/** What a use case did, as the log line reports it (see routes/respond.ts). */
export type Done = { outcome?: Outcome; d1: D1Usage; objectCalls: number; ignored: readonly Ignored[] };

/**
 * Records what a request's use case did, what it cost in storage and what it left out,
 * after what the screening left out (noteIgnored). Returns every field left out.
 */
export function noteDone(request: Request, { outcome, d1, objectCalls, ignored }: Done): readonly Ignored[] {
  const facts = requestFacts(request);
  if (outcome !== undefined) facts.outcome = outcome;
  facts.storage = { d1RoundTrips: d1.roundTrips, d1Statements: d1.statements, objectCalls };
  facts.ignored = [...(facts.ignored ?? []), ...ignored];
  return facts.ignored;
}

// Error messages can quote input (a parser showing the text it choked on): mask
// anything shaped like an email or a phone before it reaches the log.
const EMAIL_LIKE = /[^\s"'<>@]*@[^\s"'<>@]*/g;
const DIGIT_RUN = /\+?\d[\d ().-]{1,}\d/g;
const MAX_DETAIL = 200;

/** Masks email- and phone-shaped text and bounds the length: what an error may put in a log line. */
export function redact(text: string): string {
  return text.replace(EMAIL_LIKE, "<email>").replace(DIGIT_RUN, "<digits>").slice(0, MAX_DETAIL);
}

/** Router `catch` companion: records the error code as the outcome, and what an unexpected error was. */
export function noteError(request: Request, err: unknown): void {
  const facts = requestFacts(request);
  if (err instanceof HttpError) {
    facts.outcome = err.code;
    return;
  }
  facts.outcome = "internal_error";
  facts.detail = redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}

const encoder = new TextEncoder();
const hmacKeys = new Map<string, Promise<CryptoKey>>();

/**
 * HMAC-SHA-256 of `kind:value` under `secret`, as 32 hex digits: equal identifiers
 * get equal hashes, so log lines can be correlated without holding the identifier.
 */
async function keyedHash(secret: string, kind: string, value: string): Promise<string> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(secret, key);
  }
  const mac = await crypto.subtle.sign("HMAC", await key, encoder.encode(`${kind}:${value}`));
  return hex(new Uint8Array(mac, 0, 16));
}

type IdentifierHashes = { emailHash?: string; phoneHash?: string };

/** The caller's own request id as the log line holds it: as given, as its keyed hash, or left out. */
async function callerRequestId(facts: RequestFacts, secret: string | undefined): Promise<{ callerRequestId?: string }> {
  const given = facts.callerRequestId;
  if (given === undefined) return {};
  if ("raw" in given) return { callerRequestId: given.raw };
  // Without a key a hash of a phone number could be reversed by trying them all: left out.
  if (!secret) return {};
  try {
    return { callerRequestId: `hmac:${await keyedHash(secret, "request-id", given.hashed)}` };
  } catch {
    return {};
  }
}

async function identifierHashes(facts: RequestFacts, secret: string | undefined): Promise<IdentifierHashes> {
  // Without a key there is no safe way to correlate: the identifiers are left out.
  if (!facts.identifiers || !secret) return {};
  const { email, phoneNumber } = facts.identifiers;
  try {
    return {
      ...(email === undefined ? {} : { emailHash: await keyedHash(secret, "email", email) }),
      ...(phoneNumber === undefined ? {} : { phoneHash: await keyedHash(secret, "phone", phoneNumber) }),
    };
  } catch {
    // The line must still be written; it just cannot be correlated.
    facts.detail ??= "log_hash_failed";
    return {};
  }
}

/**
 * Router `finally` hook, last of all: writes the request's one JSON log line to
 * stdout (benchmarks parse it) and returns the answer with its `X-Request-Id` (ours).
 * The line holds no email, phone, token or raw path: only keyed hashes of the identifiers
 * when `LOG_HASH_KEY` is set, and the token's fingerprint; beside our id, the caller's
 * `X-Request-Id` as given when it is plain, else its keyed hash (`hmac:<hex>`).
 */
export async function logRequest(response: Response, request: Request, env: Env): Promise<Response> {
  const facts = requestFacts(request);
  const line = {
    requestId: facts.requestId,
    ...(await callerRequestId(facts, env.LOG_HASH_KEY)),
    method: request.method,
    route: facts.route,
    status: response.status,
    durationMs: Date.now() - facts.startedAt,
    outcome: facts.outcome,
    ...facts.storage,
    // Which token was used, so a rotation can tell when the old one has gone quiet.
    ...(facts.caller === undefined ? {} : { tokenId: facts.caller }),
    ...(await identifierHashes(facts, env.LOG_HASH_KEY)),
    // Which rule dropped which field, e.g. "phoneNumber=blocked:phone_repeated_digit".
    ...(facts.ignored?.length
      ? { ignored: facts.ignored.map(({ field, reason, rule }) => `${field}=${reason}${rule ? `:${rule}` : ""}`) }
      : {}),
    ...(facts.detail === undefined ? {} : { detail: facts.detail }),
  };
  console.log(JSON.stringify(line));
  return withHeaders(response, (headers) => headers.set(REQUEST_ID_HEADER, facts.requestId));
}

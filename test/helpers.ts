import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, type MockInstance } from "vitest";
import { INVARIANT_VIOLATIONS_SQL, type InvariantViolation } from "../src/db/invariants";
import type { Contact } from "../src/db/schema";
import type { IdentifyResponse } from "../src/domain/contact";
import { type ClusterLimits, parseClusterLimits } from "../src/domain/limits";
import { newContactObjects, ownerKey } from "../src/durable/routing";
import worker from "../src/index";
import { ADMIN_TOKEN, TEST_TOKEN } from "./tokens";

/**
 * A request to the Worker, with `Authorization: Bearer TEST_TOKEN` unless `init`
 * sets that header itself (to `""` to send none).
 */
function testRequest(path: string, init?: RequestInit): Request {
  const headers = new Headers(init?.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TEST_TOKEN}`);
  else if (headers.get("authorization") === "") headers.delete("authorization");
  return new Request(`https://identity.test${path}`, { ...init, headers });
}

/** Sends a request through the real Worker entry point (router, Durable Object, D1), as TEST_TOKEN. */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(testRequest(path, init));
}

/** Like `call()`, with an operator's token (ADMIN_TOKEN): how tests reach the admin routes. */
export function callAsAdmin(path: string, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
  return call(path, { ...init, headers });
}

/**
 * Like `call()`, but the Worker sees these bindings replaced: how tests run a
 * deployment configured differently (no secret, CORS on) on the same storage.
 */
export function callWith(overrides: Partial<Env>, path: string, init?: RequestInit): Promise<Response> {
  // A test request carries no `cf` properties; the handler reads none.
  const request = testRequest(path, init) as Request<unknown, IncomingRequestCfProperties>;
  return worker.fetch(request, { ...env, ...overrides }, createExecutionContext());
}

/**
 * The methods every D1 session shares. The Worker and the objects send each statement
 * through a session (`env.DB.withSession`), so this is where tests watch D1 or inject its
 * faults; the tests' own queries (`env.DB.prepare`) do not pass here.
 */
export const d1Sessions: D1DatabaseSession = Object.getPrototypeOf(env.DB.withSession("first-primary"));

/** POSTs a JSON body (or a raw string) to /identify. */
export function postIdentify(body: unknown): Promise<Response> {
  return call("/identify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** POSTs to /identify, expects 200 and returns the parsed answer. */
export async function identify(body: unknown): Promise<IdentifyResponse> {
  const res = await postIdentify(body);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as IdentifyResponse;
}

/** Stored rows, oldest id first: what the tests assert besides the responses. */
export async function storedRows(where = "1 = 1", ...params: unknown[]): Promise<Contact[]> {
  const { results } = await env.DB.prepare(`SELECT * FROM contacts WHERE ${where} ORDER BY id`)
    .bind(...params)
    .all<Contact>();
  return results;
}

/** The stored rows of one cluster: its primary and every row linked to it, soft-deleted ones included. */
export async function clusterRows(primaryId: number): Promise<Contact[]> {
  return storedRows("id = ?1 OR linkedId = ?1", primaryId);
}

export async function countRows(): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM contacts").first<{ n: number }>();
  return row?.n ?? 0;
}

/** Runs the invariant checker over the whole table and expects no violation. */
export async function expectInvariants(): Promise<void> {
  const { results } = await env.DB.prepare(INVARIANT_VIOLATIONS_SQL).all<InvariantViolation>();
  expect(results).toEqual([]);
}

/** Inserts a row directly (fixtures that the API could not produce, e.g. soft-deleted rows). */
export async function insertRow(row: Partial<Contact> & Pick<Contact, "linkPrecedence">): Promise<number> {
  const columns = Object.keys(row);
  const placeholders = columns.map((_, i) => `?${i + 1}`);
  const inserted = await env.DB.prepare(
    `INSERT INTO contacts (${columns.join(", ")}) VALUES (${placeholders.join(", ")}) RETURNING id`,
  )
    .bind(...Object.values(row))
    .first<{ id: number }>();
  if (!inserted) throw new Error("insert returned no id");
  return inserted.id;
}

/** A unique prefix per test: storage is shared by all tests of a file. */
let counter = 0;
export function unique(label: string): string {
  counter += 1;
  return `${label}${counter}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The D1 binding, recording every statement prepared through it or its sessions and refusing
 * batches: how a test shows that a route answers from one read and writes nothing.
 */
export function recordingDb(): { db: D1Database; statements: string[] } {
  const statements: string[] = [];
  const db = {
    prepare: (query: string) => {
      statements.push(query);
      return env.DB.prepare(query);
    },
    batch: () => Promise.reject(new Error("this route must not write")),
    exec: () => Promise.reject(new Error("this route must not write")),
    // The Worker reads through sessions: theirs are recorded the same way.
    withSession: (anchor?: string) => {
      const session = env.DB.withSession(anchor);
      return {
        prepare: (query: string) => {
          statements.push(query);
          return session.prepare(query);
        },
        batch: () => Promise.reject(new Error("this route must not write")),
        getBookmark: () => session.getBookmark(),
      };
    },
    dump: () => env.DB.dump(),
  };
  // Structurally a D1Database for what the Worker calls.
  return { db: db as unknown as D1Database, statements };
}

/** A Durable Object namespace that fails any use: the Worker must not call an object. */
export const NO_OBJECTS = {
  getByName: () => {
    throw new Error("this route must not call an object");
  },
} as unknown as Env["RECONCILER"];

/** `count` new emails (`<tag>-<n>@x.io`) that all queue in the same warm object. */
export function emailsOfOneObject(count: number, tag = unique("warm")): string[] {
  const objects = newContactObjects(env);
  const target = ownerKey([], { email: `${tag}-0@x.io` }, objects);
  const emails: string[] = [];
  for (let i = 0; emails.length < count; i++) {
    const email = `${tag}-${i}@x.io`;
    if (ownerKey([], { email }, objects) === target) emails.push(email);
  }
  return emails;
}

/** The cluster limits as wrangler.toml configures them: what the Worker under test enforces. */
export const LIMITS: ClusterLimits = parseClusterLimits(env.MAX_EMAILS_PER_CLUSTER, env.MAX_PHONES_PER_CLUSTER);

/** The request log line of `res` (by its `X-Request-Id`) among those `log`, a spy on console.log, saw. */
export function requestLogLine(log: MockInstance<typeof console.log>, res: Response): Record<string, unknown> {
  const id = res.headers.get("x-request-id");
  const line = log.mock.calls
    .map(([text]) => JSON.parse(String(text)) as Record<string, unknown>)
    .find((entry) => entry.requestId === id);
  expect(line).toBeDefined();
  return line ?? {};
}

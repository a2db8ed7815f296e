import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { redact } from "../../src/http/request-log";
import { call, callAsAdmin, callWith, d1Sessions, postIdentify, unique } from "../helpers";
import { ROTATED_TOKEN, TEST_LOG_HASH_KEY, TEST_TOKEN } from "../tokens";

type LogLine = Record<string, unknown> & { requestId: string };

let log: MockInstance<typeof console.log>;
beforeEach(() => {
  log = vi.spyOn(console, "log");
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Every console.log call so far, each expected to be one JSON object on one line. */
function lines(): LogLine[] {
  return log.mock.calls.map((args) => {
    expect(args).toHaveLength(1);
    const [text] = args;
    expect(typeof text).toBe("string");
    expect(String(text)).not.toContain("\n");
    return JSON.parse(String(text)) as LogLine;
  });
}

/** The one log line of the request that got `res`, found by its X-Request-Id. */
function lineOf(res: Response): LogLine {
  const id = res.headers.get("x-request-id");
  expect(id).toBeTruthy();
  const matching = lines().filter((line) => line.requestId === id);
  expect(matching).toHaveLength(1);
  return matching[0] ?? { requestId: "" };
}

/** What the Worker should log for an identifier: HMAC-SHA-256 under LOG_HASH_KEY, 16 bytes in hex. */
async function expectedHash(kind: string, value: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(TEST_LOG_HASH_KEY),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${kind}:${value}`));
  return [...new Uint8Array(mac, 0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A token's fingerprint as docs/operations.md tells operators to compute it: SHA-256, first 16 hex digits. */
async function fingerprint(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest, 0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("the request log", () => {
  it("writes exactly one JSON line per request, with the agreed fields", async () => {
    const email = `${unique("Log")}@Example.com`;
    const responses = [
      await postIdentify({ email, phoneNumber: "+44 (20) 7946-0001" }),
      await call("/health"),
      await call("/nowhere"),
      await call("/identify", { method: "GET" }),
    ];
    expect(lines()).toHaveLength(responses.length);

    const created = lineOf(responses[0] ?? new Response());
    expect(created).toEqual({
      requestId: expect.any(String),
      method: "POST",
      route: "/identify",
      status: 200,
      durationMs: expect.any(Number),
      outcome: "created",
      d1RoundTrips: expect.any(Number),
      d1Statements: expect.any(Number),
      objectCalls: 1,
      tokenId: await fingerprint(TEST_TOKEN),
      emailHash: await expectedHash("email", email.toLowerCase()),
      phoneHash: await expectedHash("phone", "+442079460001"),
    });
    expect(created.d1RoundTrips).toBeGreaterThanOrEqual(2);
    expect(created.d1Statements).toBeGreaterThanOrEqual(created.d1RoundTrips as number);

    expect(lineOf(responses[1] ?? new Response())).toMatchObject({
      route: "/health",
      status: 200,
      outcome: "ok",
      d1RoundTrips: 0,
    });
    expect(lineOf(responses[2] ?? new Response())).toMatchObject({ route: "*", status: 404, outcome: "not_found" });
    expect(lineOf(responses[3] ?? new Response())).toMatchObject({
      route: "/identify",
      method: "GET",
      status: 405,
      outcome: "method_not_allowed",
    });
  });

  it("labels each reconciliation's outcome, and correlates identifiers by hash only", async () => {
    const [a, b] = [`${unique("oa")}@x.io`, `${unique("ob")}@x.io`];
    const [phoneA, phoneB] = ["7100000001", "7100000002"];
    const steps = [
      [{ email: a, phoneNumber: phoneA }, "created"],
      [{ email: a, phoneNumber: phoneA }, "unchanged"],
      [{ email: `x.${a}`, phoneNumber: phoneA }, "linked"],
      [{ email: b, phoneNumber: phoneB }, "created"],
      [{ email: a, phoneNumber: phoneB }, "merged"],
    ] as const;
    const seen: LogLine[] = [];
    for (const [body, outcome] of steps) {
      const line = lineOf(await postIdentify(body));
      expect(line.outcome, JSON.stringify(body)).toBe(outcome);
      seen.push(line);
    }
    // The same email hashes the same in every line; the repeat touched no object.
    expect(new Set([seen[0]?.emailHash, seen[1]?.emailHash, seen[4]?.emailHash]).size).toBe(1);
    expect(seen[0]?.emailHash).not.toBe(seen[3]?.emailHash);
    expect(seen[1]).toMatchObject({ objectCalls: 0, d1RoundTrips: 1 });

    const text = log.mock.calls.map((args) => String(args[0])).join("\n");
    for (const identifier of [a, b, phoneA, phoneB, a.split("@")[0] ?? a]) expect(text).not.toContain(identifier);
  });

  it("names the token used by its fingerprint, never the token, so a rotation can be watched", async () => {
    const res = await call("/health");
    expect(lineOf(res)).not.toHaveProperty("tokenId"); // an open route checks no token
    const rotated = await call("/nowhere", { headers: { authorization: `Bearer ${ROTATED_TOKEN}` } });
    const line = lineOf(rotated);
    expect(line.tokenId).toBe(await fingerprint(ROTATED_TOKEN));
    expect(line.tokenId).not.toBe(await fingerprint(TEST_TOKEN));
    const text = log.mock.calls.map((args) => String(args[0])).join("\n");
    expect(text).not.toContain(ROTATED_TOKEN);
    expect(text).not.toContain(TEST_TOKEN);
  });

  it("leaves the hashes out, not the identifiers in, when LOG_HASH_KEY is unset", async () => {
    const email = `${unique("nokey")}@x.io`;
    const res = await callWith({ LOG_HASH_KEY: undefined }, "/identify", {
      method: "POST",
      body: JSON.stringify({ email, phoneNumber: "7200000001" }),
    });
    expect(res.status).toBe(200);
    const line = lineOf(res);
    expect(line).not.toHaveProperty("emailHash");
    expect(line).not.toHaveProperty("phoneHash");
    expect(JSON.stringify(line)).not.toContain(email);
    expect(JSON.stringify(line)).not.toContain("7200000001");
  });

  it("logs the admin routes under their patterns, never the contact id, with their storage work", async () => {
    const email = `${unique("adminlog")}@x.io`;
    const created = await postIdentify({ email });
    const { primaryContactId } = await created.json<{ primaryContactId: number }>();
    const id = String(primaryContactId);
    const byId = await callAsAdmin(`/contacts/${id}`);
    expect(lineOf(byId)).toMatchObject({ route: "/contacts/:id", status: 200, d1RoundTrips: 1, objectCalls: 0 });
    const history = await callAsAdmin(`/contacts/${id}/history`);
    expect(lineOf(history)).toMatchObject({ route: "/contacts/:id/history", status: 200, objectCalls: 0 });
    const forbidden = await call(`/contacts/${id}`);
    expect(lineOf(forbidden)).toMatchObject({
      route: "/contacts/:id",
      status: 403,
      outcome: "forbidden",
      detail: "caller_token_on_admin_route",
    });
    const erased = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ email }) });
    expect(lineOf(erased)).toMatchObject({ route: "/erase", status: 200, objectCalls: 1 });
    for (const res of [byId, history, forbidden, erased]) {
      expect(JSON.stringify(lineOf(res))).not.toMatch(new RegExp(`/${id}\\b|${email}`));
    }
  });

  it("logs refusals under their route, with why, and never the raw path", async () => {
    const refused = await call("/identify", { method: "POST", headers: { authorization: "" }, body: "{}" });
    expect(lineOf(refused)).toMatchObject({
      route: "/identify",
      status: 401,
      outcome: "unauthorized",
      detail: "missing_token",
    });

    const probe = await call("/users/jane@x.io/555123456", { headers: { authorization: "Bearer nope" } });
    const line = lineOf(probe);
    expect(line).toMatchObject({ route: "*", status: 401, detail: "invalid_token" });
    expect(JSON.stringify(line)).not.toMatch(/jane|555123456/);

    const invalid = await postIdentify({ email: "not-an-email", phoneNumber: "12" });
    expect(lineOf(invalid)).toMatchObject({ status: 400, outcome: "invalid_request", d1RoundTrips: 0 });
    expect(JSON.stringify(lineOf(invalid))).not.toContain("not-an-email");
  });

  it("omits storage counts it cannot know: a request that failed in storage", async () => {
    vi.spyOn(d1Sessions, "prepare").mockImplementation(() => {
      throw new Error("D1_ERROR: no such table: contacts");
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await postIdentify({ email: `${unique("down")}@x.io` });
    expect(res.status).toBe(503);
    const line = lineOf(res);
    expect(line).toMatchObject({ status: 503, outcome: "service_unavailable", emailHash: expect.any(String) });
    expect(line).not.toHaveProperty("d1RoundTrips");
  });
});

describe("X-Request-Id", () => {
  const OURS = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("is ours on every answer, never the caller's; the log keeps a plain caller id beside it", async () => {
    const given = await call("/health", { headers: { "x-request-id": "trace-42.a_b:c" } });
    const id = given.headers.get("x-request-id");
    expect(id).toMatch(OURS);
    expect(lineOf(given)).toMatchObject({ requestId: id, callerRequestId: "trace-42.a_b:c" });

    const none = await call("/nowhere");
    expect(none.headers.get("x-request-id")).toMatch(OURS);
    expect(lineOf(none)).not.toHaveProperty("callerRequestId");
    const refused = await call("/identify", { headers: { authorization: "" } });
    expect(refused.headers.get("x-request-id")).toMatch(OURS);
  });

  it("logs an identifier-shaped or odd caller id only as its keyed hash, and none without LOG_HASH_KEY", async () => {
    for (const given of ["+14155550123", "14155550123", "jane@x.io", "x".repeat(65), "has space", "<script>"]) {
      const res = await call("/nowhere", { headers: { "x-request-id": given } });
      expect(res.headers.get("x-request-id"), given).toMatch(OURS);
      const line = lineOf(res);
      expect(line.callerRequestId, given).toBe(`hmac:${await expectedHash("request-id", given)}`);
      expect(JSON.stringify(line)).not.toContain(given);
    }
    const unkeyed = await callWith({ LOG_HASH_KEY: undefined }, "/nowhere", {
      headers: { "x-request-id": "+14155550123" },
    });
    expect(lineOf(unkeyed)).not.toHaveProperty("callerRequestId");
  });

  it("stores ours with the events, so that a phone number sent as a trace id never reaches contact_events", async () => {
    const phoneLike = `+1415${String(Date.now() % 1e7).padStart(7, "0")}`;
    const email = `${unique("traced")}@x.io`;
    const created = await call("/identify", {
      method: "POST",
      headers: { "x-request-id": phoneLike },
      body: JSON.stringify({ email }),
    });
    expect(created.status).toBe(200);
    const { primaryContactId } = await created.json<{ primaryContactId: number }>();
    const erased = await callAsAdmin(`/contacts/${primaryContactId}`, {
      method: "DELETE",
      headers: { "x-request-id": phoneLike.slice(1) },
    });
    expect(erased.status).toBe(200);

    const { results } = await env.DB.prepare(
      "SELECT kind, requestId FROM contact_events WHERE EXISTS (SELECT 1 FROM json_each(contactIds) WHERE value = ?) ORDER BY id",
    )
      .bind(primaryContactId)
      .all<{ kind: string; requestId: string }>();
    expect(results).toEqual([
      { kind: "created", requestId: created.headers.get("x-request-id") },
      { kind: "erased", requestId: erased.headers.get("x-request-id") },
    ]);
    const digits = phoneLike.slice(2);
    const leaked = await env.DB.prepare("SELECT count(*) AS n FROM contact_events WHERE requestId LIKE ?")
      .bind(`%${digits}%`)
      .first<{ n: number }>();
    expect(leaked?.n).toBe(0);
  });
});

describe("redact", () => {
  it("masks email- and phone-shaped text and bounds the length", () => {
    expect(redact('Unexpected token in "jane.doe@example.com" near +91 99999-99999')).toBe(
      'Unexpected token in "<email>" near <digits>',
    );
    expect(redact("x".repeat(500))).toHaveLength(200);
  });
});

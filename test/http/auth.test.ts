import { describe, expect, it, vi } from "vitest";
import { call, callWith, countRows, postIdentify, requestLogLine, storedRows, unique } from "../helpers";
import { ADMIN_TOKEN, FEED_TOKEN, ROTATED_ADMIN_TOKEN, ROTATED_TOKEN, TEST_TOKEN } from "../tokens";

const CHALLENGE = 'Bearer realm="identity"';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="identity", error="invalid_token"';

/** POSTs a new email to /identify with these headers; returns the answer and the email. */
async function postNew(headers: Record<string, string>) {
  const email = `${unique("auth")}@x.io`;
  const res = await call("/identify", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ email }),
  });
  return { res, email };
}

async function expectUnauthorized(res: Response, challenge: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe(challenge);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await res.json<{ error: { code: string; message: string } }>();
  expect(body).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|Error:/);
}

describe("bearer tokens", () => {
  it("refuses a request without a token, writing nothing", async () => {
    const before = await countRows();
    const { res, email } = await postNew({ authorization: "" });
    await expectUnauthorized(res, CHALLENGE);
    expect(await countRows()).toBe(before);
    expect(await storedRows("email = ?", email)).toEqual([]);
  });

  it.each([
    ["an unknown token", `Bearer not-${TEST_TOKEN}`],
    ["a prefix of a valid token", `Bearer ${TEST_TOKEN.slice(0, -1)}`],
    ["a valid token with more after it", `Bearer ${TEST_TOKEN}x`],
    ["the token list itself", `Bearer ${TEST_TOKEN},${ROTATED_TOKEN}`],
    ["another scheme", `Basic ${btoa(`user:${TEST_TOKEN}`)}`],
    ["a token without its scheme", TEST_TOKEN],
    ["the scheme without a token", "Bearer "],
  ])("refuses %s with error=invalid_token, writing nothing", async (_, authorization) => {
    const before = await countRows();
    const { res, email } = await postNew({ authorization });
    await expectUnauthorized(res, INVALID_TOKEN_CHALLENGE);
    expect(await countRows()).toBe(before);
    expect(await storedRows("email = ?", email)).toEqual([]);
  });

  it("accepts every configured token, so that one can be rotated without downtime", async () => {
    for (const token of [TEST_TOKEN, ROTATED_TOKEN]) {
      const { res, email } = await postNew({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      expect(await storedRows("email = ?", email)).toHaveLength(1);
    }
  });

  it("takes the scheme name in any case (RFC 7235)", async () => {
    const { res } = await postNew({ authorization: `bearer ${TEST_TOKEN}` });
    expect(res.status).toBe(200);
  });

  it("guards unknown paths and wrong methods too, before saying what exists", async () => {
    for (const [path, method] of [
      ["/nowhere", "GET"],
      ["/identify", "GET"],
      ["/identify/", "POST"],
    ] as const) {
      await expectUnauthorized(await call(path, { method, headers: { authorization: "" } }), CHALLENGE);
    }
    // With a token, the same calls get their 404 and 405.
    expect((await call("/nowhere")).status).toBe(404);
    expect((await call("/identify")).status).toBe(405);
  });

  it("leaves /health open: no token needed, and a wrong one is not held against it", async () => {
    for (const authorization of ["", "Bearer wrong"]) {
      const res = await call("/health", { headers: { authorization } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "healthy" });
    }
  });
});

describe("a deployment without API_TOKENS", () => {
  it.each([
    ["unset", undefined],
    ["empty", ""],
    ["only separators and spaces", " , ,"],
  ])("refuses every authenticated call when the secret is %s (fail closed)", async (_, API_TOKENS) => {
    const before = await countRows();
    const email = `${unique("closed")}@x.io`;
    for (const authorization of [`Bearer ${TEST_TOKEN}`, "", "Bearer "]) {
      const res = await callWith({ API_TOKENS, ADMIN_TOKENS: API_TOKENS }, "/identify", {
        method: "POST",
        headers: { authorization },
        body: JSON.stringify({ email }),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="identity"/);
    }
    expect((await callWith({ API_TOKENS, ADMIN_TOKENS: API_TOKENS }, "/nowhere")).status).toBe(401);
    expect(await countRows()).toBe(before);
    expect(await storedRows("email = ?", email)).toEqual([]);
  });

  it("still answers /health", async () => {
    const res = await callWith({ API_TOKENS: undefined }, "/health", { headers: { authorization: "" } });
    expect(res.status).toBe(200);
  });

  it("picks up a new token list at once (a rotation), without the old one", async () => {
    const res = await callWith({ API_TOKENS: "brand-new-token" }, "/identify", {
      method: "POST",
      headers: { authorization: "Bearer brand-new-token" },
      body: JSON.stringify({ email: `${unique("rotated")}@x.io` }),
    });
    expect(res.status).toBe(200);
    const old = await callWith({ API_TOKENS: "brand-new-token" }, "/nowhere");
    expect(old.status).toBe(401);
    // And back: the old list works again, the new token no longer does.
    expect((await postIdentify({ email: `${unique("back")}@x.io` })).status).toBe(200);
    const gone = await call("/nowhere", { headers: { authorization: "Bearer brand-new-token" } });
    expect(gone.status).toBe(401);
  });
});

describe("admin tokens (ADMIN_TOKENS)", () => {
  it("reach the callers' routes too, each configured admin token", async () => {
    for (const token of [ADMIN_TOKEN, ROTATED_ADMIN_TOKEN]) {
      const { res, email } = await postNew({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      expect(await storedRows("email = ?", email)).toHaveLength(1);
    }
  });

  it("are the only tokens that reach an admin route: a caller's token gets 403 forbidden", async () => {
    const { res } = await postNew({});
    const { primaryContactId } = await res.json<{ primaryContactId: number }>();
    for (const token of [TEST_TOKEN, ROTATED_TOKEN]) {
      const refused = await call(`/contacts/${primaryContactId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: { code: "forbidden", message: expect.any(String) } });
    }
    for (const token of [ADMIN_TOKEN, ROTATED_ADMIN_TOKEN]) {
      const allowed = await call(`/contacts/${primaryContactId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
    }
  });

  it("work alone, when API_TOKENS is unset; callers are then refused", async () => {
    const { res } = await postNew({});
    const { primaryContactId } = await res.json<{ primaryContactId: number }>();
    const admin = await callWith({ API_TOKENS: undefined }, `/contacts/${primaryContactId}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(200);
    const caller = await callWith({ API_TOKENS: undefined }, "/identify", {
      method: "POST",
      body: JSON.stringify({ email: `${unique("nocaller")}@x.io` }),
    });
    expect(caller.status).toBe(401);
  });

  it("an admin route refuses everyone when neither secret is set", async () => {
    const res = await callWith({ API_TOKENS: undefined, ADMIN_TOKENS: undefined }, "/contacts/1", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(401);
  });
});

describe("a token in both API_TOKENS and ADMIN_TOKENS (a misconfiguration)", () => {
  const shared = "test-token-in-both-lists-3b9e51";
  const lists = { API_TOKENS: `${TEST_TOKEN},${shared}`, ADMIN_TOKENS: `${shared},${ADMIN_TOKEN}` };

  it("is refused with a 500 and a log line saying why, never treated as an admin, writing nothing", async () => {
    const log = vi.spyOn(console, "log");
    const before = await countRows();
    const email = `${unique("shared")}@x.io`;
    const written = await callWith(lists, "/identify", {
      method: "POST",
      headers: { authorization: `Bearer ${shared}` },
      body: JSON.stringify({ email }),
    });
    expect(written.status).toBe(500);
    expect(await written.json()).toEqual({ error: { code: "internal_error", message: expect.any(String) } });
    expect(await storedRows("email = ?", email)).toEqual([]);
    expect(await countRows()).toBe(before);

    const admin = await callWith(lists, "/contacts/1", { headers: { authorization: `Bearer ${shared}` } });
    expect(admin.status).toBe(500);
    const line = requestLogLine(log, admin);
    expect(line).toMatchObject({
      status: 500,
      outcome: "internal_error",
      tokenId: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(line.detail).toContain("API_TOKENS and ADMIN_TOKENS");
    expect(JSON.stringify(line)).not.toContain(shared);
    log.mockRestore();
  });

  it("leaves every other token of both lists working", async () => {
    const email = `${unique("unshared")}@x.io`;
    const caller = await callWith(lists, "/identify", { method: "POST", body: JSON.stringify({ email }) });
    expect(caller.status).toBe(200);
    const { primaryContactId } = await caller.json<{ primaryContactId: number }>();
    const admin = await callWith(lists, `/contacts/${primaryContactId}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(200);
    const forbidden = await callWith(lists, `/contacts/${primaryContactId}`);
    expect(forbidden.status).toBe(403);
  });
});

describe("a token in FEED_TOKENS and another list (a misconfiguration)", () => {
  it("is refused with a 500, on the feed and off it, never given either scope", async () => {
    const shared = "test-token-feed-and-caller-77c0e2";
    const lists = { API_TOKENS: `${TEST_TOKEN},${shared}`, FEED_TOKENS: `${FEED_TOKEN},${shared}` };
    const email = `${unique("feedshared")}@x.io`;
    const written = await callWith(lists, "/identify", {
      method: "POST",
      headers: { authorization: `Bearer ${shared}` },
      body: JSON.stringify({ email }),
    });
    expect(written.status).toBe(500);
    expect(await storedRows("email = ?", email)).toEqual([]);
    const feed = await callWith(lists, "/events", { headers: { authorization: `Bearer ${shared}` } });
    expect(feed.status).toBe(500);
    const own = await callWith(lists, "/events", { headers: { authorization: `Bearer ${FEED_TOKEN}` } });
    expect(own.status).toBe(200);
  });
});

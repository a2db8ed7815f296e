import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { database } from "../../src/db/client";
import { readTouchedClusters } from "../../src/db/reads";
import type { IdentifyResponse } from "../../src/domain/contact";
import { reconcilerLocationHint } from "../../src/durable/placement";
import { newBudget } from "../../src/durable/retry";
import { newContactObjects, ownerKey } from "../../src/durable/routing";
import {
  call,
  callAsAdmin,
  callWith,
  countRows,
  d1Sessions,
  expectInvariants,
  LIMITS,
  storedRows,
  unique,
} from "../helpers";

// Reads through a D1 session (nearest replica, or at least as new as a bookmark the
// caller sends back), objects on the primary, and objects placed by a location hint.
// Local D1 has no replicas: these tests check what the service asks D1 for, and that a
// bookmark carried from a write to a read makes that read see the write.

const BOOKMARK = "Identity-Bookmark";
const BOOKMARK_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{16,128}$/;

afterEach(() => {
  vi.restoreAllMocks();
});

function postIdentify(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call("/identify", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function answered(res: Response): Promise<{ body: IdentifyResponse; bookmark: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const bookmark = res.headers.get(BOOKMARK);
  expect(bookmark).toMatch(BOOKMARK_SHAPE);
  return { body: JSON.parse(text) as IdentifyResponse, bookmark: bookmark ?? "" };
}

/**
 * Records every D1 session the Worker and the objects open (its constraint or bookmark,
 * and the bookmark it ended with) while still opening the real ones.
 */
function recordSessions(): { opened: { anchor: string | undefined; session: D1DatabaseSession }[] } {
  const opened: { anchor: string | undefined; session: D1DatabaseSession }[] = [];
  const withSession = env.DB.withSession.bind(env.DB);
  vi.spyOn(env.DB, "withSession").mockImplementation((anchor) => {
    const session = withSession(anchor);
    opened.push({ anchor: anchor ?? undefined, session });
    return session;
  });
  return { opened };
}

/** Spies on the binding's own statements, which only the tests' helpers may use. */
function spyOnBareBinding(): MockInstance[] {
  return [vi.spyOn(env.DB, "prepare"), vi.spyOn(env.DB, "batch")];
}

describe("the bookmark round trip", () => {
  it("a write answers a bookmark at or after its commit; a read sent with it sees the write", async () => {
    const phoneNumber = `+44${Date.now() % 1e9}01`;
    const created = await answered(await postIdentify({ email: `${unique("bm")}@x.io`, phoneNumber }));

    const { opened } = recordSessions();
    const email = `${unique("bm-linked")}@x.io`;
    const linked = await answered(await postIdentify({ email, phoneNumber }, { [BOOKMARK]: created.bookmark }));
    expect(linked.body.secondaryContactIds).toHaveLength(1);
    // The Worker read from the bookmark it was sent; the object committed on the primary,
    // and the answer's bookmark is the one of that commit, past the Worker's read.
    const [read, ...inObject] = opened;
    expect(read?.anchor).toBe(created.bookmark);
    expect(inObject.map((session) => session.anchor)).toEqual(["first-primary"]);
    const commit = inObject[0]?.session.getBookmark();
    expect(linked.bookmark).toBe(commit);
    expect(linked.bookmark > (read?.session.getBookmark() ?? "")).toBe(true);
    expect(linked.bookmark > created.bookmark).toBe(true);

    const repeat = await answered(await postIdentify({ email }, { [BOOKMARK]: linked.bookmark }));
    expect(opened.at(-1)?.anchor).toBe(linked.bookmark);
    expect(repeat.body).toEqual(linked.body);
    expect(repeat.body.emails).toContain(email);
    // A read-only answer's bookmark is never older than the one it was sent.
    expect(repeat.bookmark >= linked.bookmark).toBe(true);
  });

  it("lookups read through the same kind of session, from the bookmark sent", async () => {
    const phoneNumber = `+44${Date.now() % 1e9}06`;
    const email = `${unique("bm-lookup")}@x.io`;
    const written = await answered(await postIdentify({ email, phoneNumber }));
    const { opened } = recordSessions();

    const lookup = await answered(
      await call("/lookup", {
        method: "POST",
        headers: { [BOOKMARK]: written.bookmark },
        body: JSON.stringify({ phoneNumber }),
      }),
    );
    expect(lookup.body).toEqual(written.body);
    const byId = await answered(
      await callAsAdmin(`/contacts/${written.body.primaryContactId}`, { headers: { [BOOKMARK]: written.bookmark } }),
    );
    expect(byId.body).toEqual(written.body);
    const unanchored = await callAsAdmin(`/contacts/${written.body.primaryContactId}`);
    expect(unanchored.status).toBe(200);
    expect(opened.map((session) => session.anchor)).toEqual([
      written.bookmark,
      written.bookmark,
      "first-unconstrained",
    ]);

    const bad = await call("/lookup", {
      method: "POST",
      headers: { [BOOKMARK]: "x" },
      body: JSON.stringify({ email }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_bookmark" } });
  });

  describe("a well-formed bookmark that D1 refuses (another database's, or one from before a restore)", () => {
    // Local D1 accepts any well-formed bookmark and ignores it (a session anchored at one
    // from elsewhere reads as if unanchored), so the session D1 would refuse is made here:
    // every statement sent through it fails, as D1 fails a bookmark it did not issue.
    const FOREIGN = "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683";
    const refused = () => new Error("D1_ERROR: bookmark is not valid for this database: SQLITE_ERROR");

    function refuseBookmark(bookmark: string, everything = false): void {
      const withSession = env.DB.withSession.bind(env.DB);
      vi.spyOn(env.DB, "withSession").mockImplementation((anchor) => {
        const session = withSession(anchor);
        if (anchor !== bookmark && !everything) return session;
        const failing = () => {
          throw refused();
        };
        return Object.assign(Object.create(session) as D1DatabaseSession, { prepare: failing, batch: failing });
      });
    }

    it("is a 400 invalid_bookmark (the client drops it), not a 503 for ever, and writes nothing", async () => {
      vi.spyOn(console, "error").mockImplementation(() => undefined);
      refuseBookmark(FOREIGN);
      const before = await countRows();
      const email = `${unique("bm-foreign")}@x.io`;
      const identified = await postIdentify({ email }, { [BOOKMARK]: FOREIGN });
      expect(identified.status).toBe(400);
      expect(await identified.json()).toEqual({
        error: { code: "invalid_bookmark", message: expect.stringContaining(BOOKMARK) },
      });
      expect(await countRows()).toBe(before);
      const looked = await call("/lookup", {
        method: "POST",
        headers: { [BOOKMARK]: FOREIGN },
        body: JSON.stringify({ email }),
      });
      expect(looked.status).toBe(400);
      expect(await looked.json()).toMatchObject({ error: { code: "invalid_bookmark" } });
      // Without it, the same request is answered.
      await answered(await postIdentify({ email }));
    });

    it("stays a 503 when D1 fails with or without the bookmark: an outage is no bad bookmark", async () => {
      vi.spyOn(console, "error").mockImplementation(() => undefined);
      refuseBookmark(FOREIGN, true);
      const res = await postIdentify({ email: `${unique("bm-outage")}@x.io` }, { [BOOKMARK]: FOREIGN });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: "service_unavailable" } });
    });
  });

  it("an empty bookmark header counts as none", async () => {
    const { opened } = recordSessions();
    await answered(await postIdentify({ email: `${unique("bm-empty")}@x.io` }, { [BOOKMARK]: " " }));
    expect(opened[0]?.anchor).toBe("first-unconstrained");
  });

  it.each([
    ["not a bookmark", "yesterday"],
    ["a constraint instead of a bookmark", "first-primary"],
    ["a truncated bookmark", "00000000-00000003-00000000"],
    ["a bookmark with a tail", "00000000-00000003-00000000-00000000000000000000000000000000;drop"],
  ])("a malformed bookmark (%s) is a 400 that reads and writes nothing", async (_, value) => {
    const { opened } = recordSessions();
    const before = await countRows();
    const email = `${unique("bm-bad")}@x.io`;
    const res = await postIdentify({ email }, { [BOOKMARK]: value });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: "invalid_bookmark", message: expect.stringContaining(BOOKMARK) },
    });
    expect(res.headers.get(BOOKMARK)).toBeNull();
    expect(opened).toEqual([]);
    expect(await countRows()).toBe(before);
  });
});

describe("where reads and writes go", () => {
  it("a repeat reads through one session on the nearest replica, and nothing else", async () => {
    const email = `${unique("replica")}@x.io`;
    await answered(await postIdentify({ email }));
    const { opened } = recordSessions();
    const bare = spyOnBareBinding();
    const sessionReads = vi.spyOn(d1Sessions, "prepare");
    await answered(await postIdentify({ email }));
    expect(opened.map((session) => session.anchor)).toEqual(["first-unconstrained"]);
    expect(sessionReads).toHaveBeenCalledTimes(1);
    for (const spy of bare) expect(spy).not.toHaveBeenCalled();
  });

  it("a write: the Worker reads through its session, the object sends every round trip to the primary", async () => {
    const phoneNumber = `+44${Date.now() % 1e9}02`;
    await answered(await postIdentify({ email: `${unique("primary-a")}@x.io`, phoneNumber }));
    const { opened } = recordSessions();
    const bare = spyOnBareBinding();
    const batches = vi.spyOn(d1Sessions, "batch");
    await answered(await postIdentify({ email: `${unique("primary-b")}@x.io`, phoneNumber }));
    expect(opened.map((session) => session.anchor)).toEqual(["first-unconstrained", "first-primary"]);
    // The write batch went through the object's primary session, not the Worker's.
    expect(batches).toHaveBeenCalledTimes(1);
    expect(batches.mock.contexts[0]).toBe(opened[1]?.session);
    for (const spy of bare) expect(spy).not.toHaveBeenCalled();
  });

  it("an object's re-read after a guard abort is a fresh primary session too", async () => {
    const email = `${unique("reread")}@x.io`;
    await answered(await postIdentify({ email, phoneNumber: `+44${Date.now() % 1e9}03` }));
    const { opened } = recordSessions();
    // The first write batch fails its guard, as if another object had committed first.
    const batch = d1Sessions.batch;
    vi.spyOn(d1Sessions, "batch").mockImplementationOnce(function (this: D1DatabaseSession, statements) {
      return batch.call(this, [this.prepare("SELECT json_extract('{}', 'cluster changed since read')"), ...statements]);
    });
    await answered(await postIdentify({ email, phoneNumber: `+44${Date.now() % 1e9}04` }));
    // Worker read; object: aborted batch, re-read, batch: each its own first-primary session.
    expect(opened.map((session) => session.anchor)).toEqual([
      "first-unconstrained",
      "first-primary",
      "first-primary",
      "first-primary",
    ]);
    await expectInvariants();
  });

  it("a write planned from a stale read is re-planned on the primary: the guard catches it", async () => {
    // What a lagging replica answers: the cluster of `email` before `phoneNumber` was
    // stored anywhere. The Worker hands exactly such rows to the object.
    const email = `${unique("stale")}@x.io`;
    const phoneNumber = `+44${Date.now() % 1e9}05`;
    await answered(await postIdentify({ email }));
    const who = { email, phoneNumber };
    const stale = await readTouchedClusters(database(env.DB), who, LIMITS);
    const other = await answered(await postIdentify({ email: `${unique("stale-other")}@x.io`, phoneNumber }));

    const key = ownerKey(stale, who, newContactObjects(env));
    const batches = vi.spyOn(d1Sessions, "batch");
    const call = { key, who, rows: stale, requestId: "test-request", budget: newBudget(), limits: LIMITS };
    const result = await env.RECONCILER.getByName(key).reconcile(call);
    // Planned on the stale rows, it would store a second holder of the phone: the guard
    // aborts that batch, the object re-reads on the primary and merges instead.
    expect(batches).toHaveBeenCalledTimes(2);
    expect(result).toMatchObject({ kind: "done", outcome: "merged" });
    const merged = await answered(await postIdentify(who));
    expect(merged.body.emails).toEqual([email, ...other.body.emails]);
    expect(await storedRows("phoneNumber = ?", phoneNumber)).toHaveLength(1);
    await expectInvariants();
  });
});

describe("the location hint of the objects", () => {
  it("reaches getByName for every object addressed", async () => {
    const getByName = vi.spyOn(env.RECONCILER, "getByName");
    const res = await callWith({ RECONCILER_LOCATION_HINT: "weur" }, "/identify", {
      method: "POST",
      body: JSON.stringify({ email: `${unique("hint")}@x.io` }),
    });
    expect(res.status).toBe(200);
    expect(getByName).toHaveBeenCalledTimes(1);
    expect(getByName.mock.calls[0]?.[1]).toEqual({ locationHint: "weur" });
  });

  it("is left out when the variable is empty, as wrangler.toml ships", async () => {
    expect(env.RECONCILER_LOCATION_HINT).toBe("");
    const getByName = vi.spyOn(env.RECONCILER, "getByName");
    await answered(await postIdentify({ email: `${unique("nohint")}@x.io` }));
    expect(getByName).toHaveBeenCalledTimes(1);
    expect(getByName.mock.calls[0]?.[1]).toBeUndefined();
  });

  it("accepts Cloudflare's region names in any case, and refuses a typo", () => {
    const hint = (value: string) => reconcilerLocationHint({ ...env, RECONCILER_LOCATION_HINT: value });
    expect(hint(" ENAM ")).toBe("enam");
    expect(hint("apac-ne")).toBe("apac-ne");
    expect(() => hint("europe")).toThrow(/RECONCILER_LOCATION_HINT "europe" is not one of wnam, enam/);
  });

  it("a misconfigured hint fails the write closed, with a 500 that is not worth retrying, and writes nothing", async () => {
    const before = await countRows();
    const res = await callWith({ RECONCILER_LOCATION_HINT: "moon" }, "/identify", {
      method: "POST",
      body: JSON.stringify({ email: `${unique("badhint")}@x.io` }),
    });
    expect(res.status).toBe(500);
    expect(res.headers.has("retry-after")).toBe(false);
    expect(await res.json()).toMatchObject({ error: { code: "internal_error" } });
    expect(await countRows()).toBe(before);
  });
});

describe("CORS lets a browser carry the bookmark", () => {
  it("allows it as a request header and exposes it on answers", async () => {
    const origin = "https://app.example.com";
    const withOrigins = { ALLOWED_ORIGINS: origin };
    const preflight = await callWith(withOrigins, "/identify", {
      method: "OPTIONS",
      headers: { authorization: "", origin, "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-headers")).toContain(BOOKMARK);
    const res = await callWith(withOrigins, "/identify", {
      method: "POST",
      headers: { origin },
      body: JSON.stringify({ email: `${unique("cors")}@x.io` }),
    });
    expect(res.headers.get("access-control-expose-headers")).toContain(BOOKMARK);
    expect(res.headers.get(BOOKMARK)).toMatch(BOOKMARK_SHAPE);
  });
});

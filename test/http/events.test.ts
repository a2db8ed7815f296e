import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/contract/cursor";
import type { ContactEvent } from "../../src/contract/events";
import type { FeedPage } from "../../src/contract/feed";
import { call, identify, unique } from "../helpers";
import { ADMIN_TOKEN, FEED_TOKEN, TEST_TOKEN } from "../tokens";

const asFeed = { authorization: `Bearer ${FEED_TOKEN}` };

function getEvents(query = "", headers: Record<string, string> = asFeed): Promise<Response> {
  return call(`/events${query}`, { headers });
}

async function page(query = ""): Promise<FeedPage> {
  const res = await getEvents(query);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as FeedPage;
}

async function newestEventId(): Promise<number> {
  const row = await env.DB.prepare("SELECT coalesce(max(id), 0) AS id FROM contact_events").first<{ id: number }>();
  return row?.id ?? 0;
}

/** Stores `count` events directly (ids only grow), as many writes would. */
async function storeEvents(count: number): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO contact_events (kind, primaryContactId, contactIds, requestId)
     SELECT 'created', 900000 + i, json_array(900000 + i), 'stored-' || i FROM n`,
  )
    .bind(count)
    .run();
}

describe("GET /events", () => {
  // Storage is per test file: this one starts on an empty feed.
  it("answers an empty first page with the cursor before the first event", async () => {
    expect(await page()).toEqual({ events: [], next: encodeCursor(0) });
    expect(await page(`?after=${encodeCursor(0)}`)).toEqual({ events: [], next: encodeCursor(0) });
  });

  it("pages through the events in commit order: next chains pages, an empty page keeps its after", async () => {
    const before = await newestEventId();
    const tag = unique("feed");
    const one = await identify({ email: `${tag}a@feed.io`, phoneNumber: "+3360001" });
    const two = await identify({ email: `${tag}b@feed.io`, phoneNumber: "+3360001" });
    const three = await identify({ email: `${tag}c@feed.io` });

    const first = await page(`?after=${encodeCursor(before)}&limit=2`);
    expect(first.events.map((event) => [event.kind, event.primaryContactId, event.contactIds])).toEqual([
      ["created", one.primaryContactId, [one.primaryContactId]],
      ["linked", one.primaryContactId, two.secondaryContactIds],
    ]);
    expect(first.events.map((event) => event.id)).toEqual([encodeCursor(before + 1), encodeCursor(before + 2)]);
    expect(first.next).toBe(encodeCursor(before + 2));

    const second = await page(`?after=${first.next}&limit=2`);
    expect(second.events).toEqual([
      {
        id: encodeCursor(before + 3),
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        kind: "created",
        primaryContactId: three.primaryContactId,
        contactIds: [three.primaryContactId],
        requestId: expect.any(String),
      },
    ]);
    const empty = await page(`?after=${second.next}&limit=2`);
    expect(empty).toEqual({ events: [], next: second.next });

    // An event's own id works as a cursor: the page after it.
    const after = first.events[0];
    expect((await page(`?after=${after?.id}&limit=1`)).events.map((e: ContactEvent) => e.id)).toEqual([
      encodeCursor(before + 2),
    ]);
  });

  it("reads 100 events by default, at most 1000, from the first event when after is absent", async () => {
    await storeEvents(1_100);
    const newest = await newestEventId();
    const first = await page();
    expect(first.events).toHaveLength(100);
    expect(first.events[0]?.id).toBe(encodeCursor(1));
    expect(first.next).toBe(encodeCursor(100));
    const full = await page(`?after=${encodeCursor(newest - 1_050)}&limit=1000`);
    expect(full.events).toHaveLength(1000);
    expect(full.next).toBe(encodeCursor(newest - 50));
    expect((await page(`?after=${full.next}&limit=1000`)).events).toHaveLength(50);
  });

  it("names a merge's bridge, an erasure's deleted contacts only, and every contact of each split", async () => {
    const before = await newestEventId();
    const tag = unique("kinds");
    const [a, b] = [`${tag}a@feed.io`, `${tag}b@feed.io`];
    const one = await identify({ email: a, phoneNumber: "+3370001" });
    const two = await identify({ email: b, phoneNumber: "+3370002" });
    const merge = await call("/identify", {
      method: "POST",
      body: JSON.stringify({ email: a, phoneNumber: "+3370002" }),
    });
    expect(merge.status).toBe(200);
    const bridge = await env.DB.prepare("SELECT id, requestId FROM contact_bridges WHERE emailContactId = ?")
      .bind(one.primaryContactId)
      .first<{ id: number; requestId: string }>();
    expect(bridge?.requestId).toBe(merge.headers.get("x-request-id"));
    // The bridge relied on a: erasing it splits the cluster, deleting nobody (1 keeps its phone).
    const erased = await call("/erase", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ email: a }),
    });
    expect(erased.status).toBe(200);
    const deleted = await call(`/contacts/${two.primaryContactId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(deleted.status).toBe(200);

    const [p1, p2] = [one.primaryContactId, two.primaryContactId];
    const events = (await page(`?after=${encodeCursor(before)}`)).events.map(
      ({ id: _, at: __, requestId, ...event }) => ({
        ...event,
        requestId,
      }),
    );
    expect(events).toEqual([
      { kind: "created", primaryContactId: p1, contactIds: [p1], requestId: expect.any(String) },
      { kind: "created", primaryContactId: p2, contactIds: [p2], requestId: expect.any(String) },
      { kind: "merged", primaryContactId: p1, contactIds: [p2], bridgeId: bridge?.id, requestId: bridge?.requestId },
      {
        kind: "erased",
        primaryContactId: p1,
        contactIds: [],
        previousPrimaryContactId: p1,
        requestId: erased.headers.get("x-request-id"),
      },
      {
        kind: "split",
        primaryContactId: p1,
        contactIds: [p1],
        previousPrimaryContactId: p1,
        requestId: expect.any(String),
      },
      {
        kind: "split",
        primaryContactId: p2,
        contactIds: [p2],
        previousPrimaryContactId: p1,
        requestId: expect.any(String),
      },
      {
        kind: "erased",
        primaryContactId: p2,
        contactIds: [p2],
        previousPrimaryContactId: p2,
        requestId: deleted.headers.get("x-request-id"),
      },
    ]);
  });

  it("never holds an email or a phone", async () => {
    const email = `${unique("pii")}@feed.io`;
    await identify({ email, phoneNumber: "+33612345670" });
    const text = await (await getEvents(`?after=${encodeCursor((await newestEventId()) - 1)}`)).text();
    expect(text).toContain("created");
    expect(text).not.toContain(email);
    expect(text).not.toContain("33612345670");
  });

  it.each([
    ["garbage", "?after=not-a-cursor", "invalid_cursor"],
    ["an empty cursor", "?after=", "invalid_cursor"],
    ["a padded cursor", `?after=${encodeCursor(3)}%3D`, "invalid_cursor"],
    ["a cursor of another version", `?after=${btoa("v2:3").replace(/=+$/, "")}`, "invalid_cursor"],
    ["two cursors", `?after=${encodeCursor(1)}&after=${encodeCursor(2)}`, "invalid_cursor"],
    ["limit 0", "?limit=0", "invalid_limit"],
    ["limit 1001", "?limit=1001", "invalid_limit"],
    ["a negative limit", "?limit=-5", "invalid_limit"],
    ["a fractional limit", "?limit=2.5", "invalid_limit"],
    ["a limit with a leading zero", "?limit=010", "invalid_limit"],
    ["a word", "?limit=ten", "invalid_limit"],
    ["an empty limit", "?limit=", "invalid_limit"],
    ["two limits", "?limit=1&limit=2", "invalid_limit"],
  ])("400 for %s", async (_, query, code) => {
    const res = await getEvents(query);
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; issues: { path: string }[] } }>();
    expect(body.error.code).toBe(code);
    expect(body.error.issues.map((issue) => issue.path)).toEqual([code === "invalid_cursor" ? "after" : "limit"]);
  });

  it("sends a bookmark to read with next time, and honours one sent", async () => {
    const res = await getEvents("?limit=1");
    const bookmark = res.headers.get("identity-bookmark");
    expect(bookmark).toBeTruthy();
    const again = await getEvents("?limit=1", { ...asFeed, "identity-bookmark": bookmark ?? "" });
    expect(again.status).toBe(200);
  });

  it("405 with Allow for another method", async () => {
    const res = await call("/events", { method: "POST", headers: asFeed });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });
});

describe("feed tokens (FEED_TOKENS)", () => {
  it("read the feed, and so do admin tokens; a caller's token gets 403 forbidden", async () => {
    expect((await getEvents("?limit=1")).status).toBe(200);
    expect((await getEvents("?limit=1", { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
    const refused = await getEvents("?limit=1", { authorization: `Bearer ${TEST_TOKEN}` });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { code: "forbidden", message: expect.stringContaining("FEED") } });
  });

  it.each([
    ["POST", "/identify"],
    ["POST", "/lookup"],
    ["GET", "/contacts/1"],
    ["GET", "/contacts/1/history"],
    ["POST", "/erase"],
    ["GET", "/nowhere"],
  ])("get 403 forbidden anywhere but the feed: %s %s, nothing written", async (method, path) => {
    const email = `${unique("feedtok")}@feed.io`;
    const before = await newestEventId();
    const res = await call(path, {
      method,
      headers: asFeed,
      body: method === "POST" ? JSON.stringify({ email }) : null,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: "forbidden", message: expect.stringContaining("/events") } });
    expect(await newestEventId()).toBe(before);
  });

  it("leave the public paths public", async () => {
    expect((await call("/health", { headers: asFeed })).status).toBe(200);
  });
});

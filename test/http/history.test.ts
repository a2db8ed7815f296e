import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/contract/cursor";
import type { ContactEvent } from "../../src/contract/events";
import { call, callAsAdmin, identify, insertRow, postIdentify, unique } from "../helpers";

type HistoryEvent = ContactEvent;

async function history(id: number): Promise<HistoryEvent[]> {
  const res = await callAsAdmin(`/contacts/${id}/history`);
  expect(res.status).toBe(200);
  return (await res.json<{ events: HistoryEvent[] }>()).events;
}

/**
 * Identifies, sending a request id of the caller's own; returns the answer and the id the
 * service answered with, which is the one its events carry (the caller's is never stored).
 */
async function identifyAs(callerId: string, body: unknown) {
  const res = await call("/identify", {
    method: "POST",
    headers: { "x-request-id": callerId },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  const requestId = res.headers.get("x-request-id") ?? "";
  expect(requestId).not.toBe(callerId);
  return { ...(await res.json<{ primaryContactId: number; secondaryContactIds: number[] }>()), requestId };
}

let phones = 0;
const newPhone = () => `+4${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

describe("GET /contacts/{id}/history", () => {
  it("records created, linked and merged with the request ids answered (ours), oldest first", async () => {
    const tag = unique("h");
    const [george, biff] = [`${tag}george@hv.edu`, `${tag}biff@hv.edu`];
    const [g, b] = [newPhone(), newPhone()];
    const first = await identifyAs(`${tag}-1`, { email: george, phoneNumber: g });
    const second = await identifyAs(`${tag}-2`, { email: biff, phoneNumber: b });
    const third = await identifyAs(`${tag}-3`, { email: `${tag}more@hv.edu`, phoneNumber: b });
    const fourth = await identifyAs(`${tag}-4`, { email: george, phoneNumber: b });
    // The merge's bridge, which its event names; it keeps the request's id too.
    const bridge = await env.DB.prepare("SELECT id, requestId FROM contact_bridges WHERE emailContactId = ?")
      .bind(first.primaryContactId)
      .first<{ id: number; requestId: string }>();
    expect(bridge?.requestId).toBe(fourth.requestId);
    // A repeat changes nothing and records nothing.
    await identifyAs(`${tag}-5`, { email: george, phoneNumber: b });

    const expected = [
      {
        kind: "created",
        primaryContactId: first.primaryContactId,
        contactIds: [first.primaryContactId],
        requestId: first.requestId,
      },
      {
        kind: "created",
        primaryContactId: second.primaryContactId,
        contactIds: [second.primaryContactId],
        requestId: second.requestId,
      },
      {
        kind: "linked",
        primaryContactId: second.primaryContactId,
        contactIds: third.secondaryContactIds,
        requestId: third.requestId,
      },
      {
        kind: "merged",
        primaryContactId: first.primaryContactId,
        contactIds: [second.primaryContactId],
        requestId: fourth.requestId,
        bridgeId: bridge?.id,
      },
    ];
    // The same history from every contact of the merged cluster, each event with its feed cursor.
    for (const id of [first.primaryContactId, second.primaryContactId, ...third.secondaryContactIds]) {
      const events = await history(id);
      expect(events.map(({ at: _, id: __, ...event }) => event)).toEqual(expected);
      const eventIds = events.map((event) => decodeCursor(event.id));
      expect(eventIds.every((eventId) => eventId !== undefined)).toBe(true);
      expect(eventIds).toEqual([...eventIds].sort((x = 0, y = 0) => x - y));
      for (const event of events) expect(event.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect([...events].map((e) => e.at)).toEqual(events.map((e) => e.at).sort());
    }
  });

  it("follows a split: both sides share the past, and only their own events after it", async () => {
    const [a, b] = [`${unique("a")}@hv.edu`, `${unique("b")}@hv.edu`];
    const [p, q] = [newPhone(), newPhone()];
    const one = await identify({ email: a, phoneNumber: p });
    await identify({ email: b, phoneNumber: p });
    const three = await identify({ email: b, phoneNumber: q });
    const [id2, id3] = three.secondaryContactIds;
    const id1 = one.primaryContactId;
    const erased = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ phoneNumber: p }) });
    expect(erased.status).toBe(200);
    // After the split, {2, 3} grows; {1} does not see it.
    await identify({ email: `${unique("c")}@hv.edu`, phoneNumber: q });

    const kinds = (events: HistoryEvent[]) => events.map((e) => [e.kind, e.primaryContactId, e.contactIds]);
    const shared = [
      ["created", id1, [id1]],
      ["linked", id1, [id2]],
      ["linked", id1, [id3]],
      ["erased", id1, []],
      ["split", id1, [id1]],
      ["split", id2, [id2, id3]],
    ];
    expect(kinds(await history(id1))).toEqual(shared);
    const later = kinds(await history(id3));
    expect(later.slice(0, shared.length)).toEqual(shared);
    expect(later.slice(shared.length)).toEqual([["linked", id2, [expect.any(Number)]]]);
  });

  it("never holds an email or a phone", async () => {
    const email = `${unique("pii")}@hv.edu`;
    const phoneNumber = newPhone();
    const { primaryContactId } = await identify({ email, phoneNumber });
    const text = await (await callAsAdmin(`/contacts/${primaryContactId}/history`)).text();
    expect(text).not.toContain(email);
    expect(text).not.toContain(phoneNumber.slice(1));
    const stored = await env.DB.prepare("SELECT * FROM contact_events").all();
    expect(JSON.stringify(stored.results)).not.toContain(email);
  });

  it("is empty for a contact stored before events were recorded, 404 for an unknown id", async () => {
    const legacy = await insertRow({ email: `${unique("old")}@hv.edu`, linkPrecedence: "primary" });
    expect(await history(legacy)).toEqual([]);
    const res = await callAsAdmin("/contacts/987654321/history");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "contact_not_found" } });
  });

  it("400 for a bad id, 403 for a caller's token", async () => {
    expect((await callAsAdmin("/contacts/0/history")).status).toBe(400);
    const { primaryContactId } = await (await postIdentify({ email: `${unique("f")}@hv.edu` })).json<{
      primaryContactId: number;
    }>();
    const res = await call(`/contacts/${primaryContactId}/history`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
  });
});

describe("GET /contacts/{id}/history?after=&limit=", () => {
  type Page = { events: HistoryEvent[]; next: string };

  async function page(id: number, query: string): Promise<Page> {
    const res = await callAsAdmin(`/contacts/${id}/history${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json<Page>();
  }

  it("pages like the feed: at most limit events after after, next to ask with, none missed or repeated", async () => {
    const tag = unique("paged");
    const phone = newPhone();
    const { primaryContactId } = await identify({ email: `${tag}-0@hv.edu`, phoneNumber: phone });
    for (let i = 1; i <= 4; i++) await identify({ email: `${tag}-${i}@hv.edu`, phoneNumber: phone });
    const whole = await page(primaryContactId, "");
    expect(whole.events).toHaveLength(5);
    expect(whole.next).toBe(whole.events.at(-1)?.id);

    const seen: HistoryEvent[] = [];
    let after = "";
    for (const size of [2, 2, 1]) {
      const got = await page(primaryContactId, `?limit=2${after ? `&after=${after}` : ""}`);
      expect(got.events).toHaveLength(size);
      expect(got.next).toBe(got.events.at(-1)?.id);
      seen.push(...got.events);
      after = got.next;
    }
    expect(seen).toEqual(whole.events);
    // Past the end: an empty page whose next is the request's after.
    expect(await page(primaryContactId, `?after=${after}`)).toEqual({ events: [], next: after });
    // From the start: next is the cursor before the first event.
    const legacy = await insertRow({ email: `${unique("old-paged")}@hv.edu`, linkPrecedence: "primary" });
    expect(await page(legacy, "")).toEqual({ events: [], next: encodeCursor(0) });
  });

  it.each([
    ["a cursor it never wrote", "?after=abc", "invalid_cursor"],
    ["a repeated after", `?after=${encodeCursor(1)}&after=${encodeCursor(2)}`, "invalid_cursor"],
    ["limit 0", "?limit=0", "invalid_limit"],
    ["limit over 1000", "?limit=1001", "invalid_limit"],
    ["a limit that is no number", "?limit=ten", "invalid_limit"],
  ])("refuses %s with 400", async (_, query, code) => {
    const { primaryContactId } = await identify({ email: `${unique("badpage")}@hv.edu` });
    const res = await callAsAdmin(`/contacts/${primaryContactId}/history${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code } });
  });

  it("still answers 404 for an id no event names, whatever the page", async () => {
    const res = await callAsAdmin(`/contacts/987654321/history?after=${encodeCursor(5)}&limit=1`);
    expect(res.status).toBe(404);
  });
});

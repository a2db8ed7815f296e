import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callAsAdmin, identify, insertRow, postIdentify, unique } from "../helpers";

type HistoryEvent = { at: string; kind: string; primaryContactId: number; contactIds: number[]; requestId: string };

async function history(id: number): Promise<HistoryEvent[]> {
  const res = await callAsAdmin(`/contacts/${id}/history`);
  expect(res.status).toBe(200);
  return (await res.json<{ events: HistoryEvent[] }>()).events;
}

/** Identifies with a request id of our own, and returns the answer. */
async function identifyAs(requestId: string, body: unknown) {
  const res = await call("/identify", {
    method: "POST",
    headers: { "x-request-id": requestId },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-request-id")).toBe(requestId);
  return res.json<{ primaryContactId: number; secondaryContactIds: number[] }>();
}

let phones = 0;
const newPhone = () => `+4${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

describe("GET /contacts/{id}/history", () => {
  it("records created, linked and merged with the request ids of the log, oldest first", async () => {
    const tag = unique("h");
    const [george, biff] = [`${tag}george@hv.edu`, `${tag}biff@hv.edu`];
    const [g, b] = [newPhone(), newPhone()];
    const first = await identifyAs(`${tag}-1`, { email: george, phoneNumber: g });
    const second = await identifyAs(`${tag}-2`, { email: biff, phoneNumber: b });
    const third = await identifyAs(`${tag}-3`, { email: `${tag}more@hv.edu`, phoneNumber: b });
    await identifyAs(`${tag}-4`, { email: george, phoneNumber: b });
    // A repeat changes nothing and records nothing.
    await identifyAs(`${tag}-5`, { email: george, phoneNumber: b });

    const expected = [
      {
        kind: "created",
        primaryContactId: first.primaryContactId,
        contactIds: [first.primaryContactId],
        requestId: `${tag}-1`,
      },
      {
        kind: "created",
        primaryContactId: second.primaryContactId,
        contactIds: [second.primaryContactId],
        requestId: `${tag}-2`,
      },
      {
        kind: "linked",
        primaryContactId: second.primaryContactId,
        contactIds: third.secondaryContactIds,
        requestId: `${tag}-3`,
      },
      {
        kind: "merged",
        primaryContactId: first.primaryContactId,
        contactIds: [second.primaryContactId],
        requestId: `${tag}-4`,
      },
    ];
    // The same history from every contact of the merged cluster.
    for (const id of [first.primaryContactId, second.primaryContactId, ...third.secondaryContactIds]) {
      const events = await history(id);
      expect(events.map(({ at: _, ...event }) => event)).toEqual(expected);
      for (const event of events) expect(event.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect([...events].map((e) => e.at)).toEqual(events.map((e) => e.at).sort());
    }
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

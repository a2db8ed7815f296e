import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, callAsAdmin, callWith, identify, NO_OBJECTS, postIdentify, requestLogLine, unique } from "../helpers";
import { ADMIN_TOKEN } from "../tokens";

afterEach(() => {
  vi.restoreAllMocks();
});

let phones = 0;
const newPhone = () => `+6${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

/**
 * A family cluster: 1 {mum, home} and 2 {son, home} share the home phone; 3 {work, office}
 * stands apart until a request with mum's email and the office phone bridges 1 to 3.
 */
async function family() {
  const tag = unique("g");
  const [mum, son, work] = [`${tag}mum@fam.io`, `${tag}son@fam.io`, `${tag}work@fam.io`];
  const [home, office] = [newPhone(), newPhone()];
  const first = await identify({ email: mum, phoneNumber: home });
  const second = await identify({ email: son, phoneNumber: home });
  const third = await identify({ email: work, phoneNumber: office });
  const merge = await postIdentify({ email: mum, phoneNumber: office });
  expect(merge.status).toBe(200);
  const ids = [first.primaryContactId, second.secondaryContactIds[0] ?? 0, third.primaryContactId] as const;
  const bridge = await env.DB.prepare("SELECT id, createdAt FROM contact_bridges WHERE phoneContactId = ?1")
    .bind(ids[2])
    .first<{ id: number; createdAt: string }>();
  return { ids, mum, son, work, home, office, bridge, mergeRequest: merge.headers.get("x-request-id") };
}

describe("GET /contacts/{id}/graph", () => {
  it("answers the contacts in creation order and the shared-value and bridge links, from one read", async () => {
    const { ids, mum, son, work, home, office, bridge, mergeRequest } = await family();
    const [a, b, c] = ids;
    const log = vi.spyOn(console, "log");
    const res = await callWith({ RECONCILER: NO_OBJECTS }, `/contacts/${c}/graph`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const graph = await res.json<Record<string, unknown>>();
    expect(graph).toEqual({
      primaryContactId: a,
      contacts: [
        { id: a, email: mum, phoneNumber: home, linkPrecedence: "primary", createdAt: expect.any(String) },
        { id: b, email: son, phoneNumber: home, linkPrecedence: "secondary", createdAt: expect.any(String) },
        { id: c, email: work, phoneNumber: office, linkPrecedence: "secondary", createdAt: expect.any(String) },
      ],
      links: [
        { from: b, to: a, via: "phoneNumber", value: home },
        { from: a, to: c, via: "bridge", bridgeId: bridge?.id, at: bridge?.createdAt, requestId: mergeRequest },
      ],
    });
    // One round trip (the cluster and its bridges), no object.
    expect(requestLogLine(log, res)).toMatchObject({ d1RoundTrips: 1, d1Statements: 2, objectCalls: 0 });
  });

  it("400 for a bad id, 404 for an unknown one, 403 for a caller's token, 405 for another method", async () => {
    const { ids } = await family();
    expect((await callAsAdmin("/contacts/0/graph")).status).toBe(400);
    const missing = await callAsAdmin("/contacts/987654321/graph");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "contact_not_found" } });
    expect((await call(`/contacts/${ids[0]}/graph`)).status).toBe(403);
    expect((await callAsAdmin(`/contacts/${ids[0]}/graph`, { method: "POST" })).status).toBe(405);
  });
});

describe("GET /contacts/{id}/explain?to=", () => {
  it("answers a shortest chain, each link oriented from id towards to", async () => {
    const { ids, home, bridge, mergeRequest } = await family();
    const [a, b, c] = ids;
    const res = await callAsAdmin(`/contacts/${b}/explain?to=${c}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      path: [
        { from: b, to: a, via: "phoneNumber", value: home },
        { from: a, to: c, via: "bridge", bridgeId: bridge?.id, at: bridge?.createdAt, requestId: mergeRequest },
      ],
    });
    const back = await (await callAsAdmin(`/contacts/${c}/explain?to=${b}`)).json<{ path: unknown[] }>();
    expect(back.path).toMatchObject([
      { from: c, to: a, via: "bridge" },
      { from: a, to: b, via: "phoneNumber" },
    ]);
    expect(await (await callAsAdmin(`/contacts/${b}/explain?to=${b}`)).json()).toEqual({ path: [] });
  });

  it("409 not_linked across clusters, 404 for an unknown id or to, 400 for a bad or missing to", async () => {
    const { ids } = await family();
    const other = await identify({ email: `${unique("stranger")}@fam.io` });
    const apart = await callAsAdmin(`/contacts/${ids[0]}/explain?to=${other.primaryContactId}`);
    expect(apart.status).toBe(409);
    expect(await apart.json()).toMatchObject({ error: { code: "not_linked" } });
    for (const [path, status] of [
      [`/contacts/987654321/explain?to=${ids[0]}`, 404],
      [`/contacts/${ids[0]}/explain?to=987654321`, 404],
      [`/contacts/${ids[0]}/explain?to=abc`, 400],
      [`/contacts/${ids[0]}/explain?to=0`, 400],
      [`/contacts/${ids[0]}/explain`, 400],
      [`/contacts/x/explain?to=${ids[0]}`, 400],
    ] as const) {
      const res = await callAsAdmin(path);
      expect(res.status, path).toBe(status);
      expect(await res.json(), path).toMatchObject({
        error: { code: status === 404 ? "contact_not_found" : "invalid_request" },
      });
    }
    expect((await call(`/contacts/${ids[0]}/explain?to=${ids[1]}`)).status).toBe(403);
  });
});

describe("GET /contacts/{id}/separations", () => {
  it("answers an empty list for a cluster never unmerged, 404 for an unknown id, 400 for a bad one", async () => {
    const { ids } = await family();
    const res = await callAsAdmin(`/contacts/${ids[1]}/separations`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect((await callAsAdmin("/contacts/987654321/separations")).status).toBe(404);
    expect((await callAsAdmin("/contacts/-1/separations")).status).toBe(400);
    expect((await call(`/contacts/${ids[1]}/separations`)).status).toBe(403);
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { family } from "../family";
import { call, callAsAdmin, callWith, identify, NO_OBJECTS, requestLogLine, unique } from "../helpers";
import { ADMIN_TOKEN } from "../tokens";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /contacts/{id}/graph", () => {
  it("answers the contacts in creation order and the shared-value and bridge links, from one read", async () => {
    const { a, b, c, mum, son, work, home, office, bridgeId, bridgeAt, mergeRequest } = await family();
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
        { from: a, to: c, via: "bridge", bridgeId, at: bridgeAt, requestId: mergeRequest },
      ],
    });
    // One round trip (the cluster and its bridges), no object.
    expect(requestLogLine(log, res)).toMatchObject({ d1RoundTrips: 1, d1Statements: 2, objectCalls: 0 });
  });

  it("400 for a bad id, 404 for an unknown one, 403 for a caller's token, 405 for another method", async () => {
    const { a, b } = await family();
    const ids = [a, b];
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
    const { a, b, c, home, bridgeId, bridgeAt, mergeRequest } = await family();
    const res = await callAsAdmin(`/contacts/${b}/explain?to=${c}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      path: [
        { from: b, to: a, via: "phoneNumber", value: home },
        { from: a, to: c, via: "bridge", bridgeId, at: bridgeAt, requestId: mergeRequest },
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
    const { a, b } = await family();
    const ids = [a, b];
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
    const { a, b } = await family();
    const ids = [a, b];
    const res = await callAsAdmin(`/contacts/${ids[1]}/separations`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect((await callAsAdmin("/contacts/987654321/separations")).status).toBe(404);
    expect((await callAsAdmin("/contacts/-1/separations")).status).toBe(400);
    expect((await call(`/contacts/${ids[1]}/separations`)).status).toBe(403);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import { family, newPhone } from "../family";
import { call, callAsAdmin, clusterRows, expectInvariants, insertRow, postIdentify, unique } from "../helpers";

const unmerge = (id: number, body: unknown, as = callAsAdmin) =>
  as(`/contacts/${id}/unmerge`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });

async function separationsOf(id: number) {
  const { results } = await env.DB.prepare(
    "SELECT lowContactId, highContactId, requestId FROM contact_separations WHERE ?1 IN (lowContactId, highContactId)",
  )
    .bind(id)
    .all();
  return results;
}

describe("POST /contacts/{id}/unmerge", () => {
  it("removes the bridge, re-forms the cluster, records a separation and unmerged events", async () => {
    const { a, b, c, mum, son, work, home, office, bridgeId } = await family();
    const res = await unmerge(b, { bridgeId });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    expect(await res.json()).toEqual({
      clusters: [
        { primaryContactId: a, emails: [mum, son], phoneNumbers: [home], secondaryContactIds: [b] },
        { primaryContactId: c, emails: [work], phoneNumbers: [office], secondaryContactIds: [] },
      ],
    });
    expect((await clusterRows(c)).map((row) => [row.id, row.linkPrecedence, row.linkedId])).toEqual([
      [c, "primary", null],
    ]);
    const bridges = await env.DB.prepare("SELECT id FROM contact_bridges WHERE id = ?1").bind(bridgeId).all();
    expect(bridges.results).toEqual([]);
    expect(await separationsOf(c)).toEqual([{ lowContactId: a, highContactId: c, requestId }]);
    const { results: events } = await env.DB.prepare(
      "SELECT kind, primaryContactId, contactIds, bridgeId, requestId FROM contact_events WHERE kind = 'unmerged' AND requestId = ?1 ORDER BY id",
    )
      .bind(requestId)
      .all();
    expect(events).toEqual([
      { kind: "unmerged", primaryContactId: a, contactIds: JSON.stringify([a, b]), bridgeId, requestId },
      { kind: "unmerged", primaryContactId: c, contactIds: JSON.stringify([c]), bridgeId, requestId },
    ]);
    // History shows it on both sides; the separation is listed on both sides.
    for (const id of [b, c]) {
      const history = await (await callAsAdmin(`/contacts/${id}/history`)).json<{ events: { kind: string }[] }>();
      expect(history.events.at(-1)?.kind, `history of ${id}`).toBe("unmerged");
      const listed = await (await callAsAdmin(`/contacts/${id}/separations`)).json();
      expect(listed).toEqual([{ id: expect.any(Number), contactIds: [a, c], at: expect.any(String), requestId }]);
    }
    // The same bridge again: it is gone.
    const again = await unmerge(a, { bridgeId });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: "bridge_not_found" } });
    await expectInvariants();
  });

  it("409 still_linked with the path when other links join the bridge's contacts, writing nothing", async () => {
    // A legacy cluster with a cycle: x and y share a phone and are tied by a legacy bridge too.
    const phone = newPhone();
    const x = await insertRow({ email: `${unique("x")}@legacy.io`, phoneNumber: phone, linkPrecedence: "primary" });
    const y = await insertRow({
      email: `${unique("y")}@legacy.io`,
      phoneNumber: phone,
      linkPrecedence: "secondary",
      linkedId: x,
    });
    const bridge = await env.DB.prepare(
      "INSERT INTO contact_bridges (kind, emailContactId, phoneContactId) VALUES ('legacy', ?1, ?2) RETURNING id",
    )
      .bind(x, y)
      .first<{ id: number }>();
    const res = await unmerge(y, { bridgeId: bridge?.id });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      error: { code: "still_linked", path: [{ from: x, to: y, via: "phoneNumber", value: phone }] },
    });
    expect((await clusterRows(x)).map((row) => row.id)).toEqual([x, y]);
    expect(await separationsOf(x)).toEqual([]);
  });

  it("unmerges a legacy bridge: the contact it tied stands apart", async () => {
    const x = await insertRow({ email: `${unique("lx")}@legacy.io`, linkPrecedence: "primary" });
    const y = await insertRow({ email: `${unique("ly")}@legacy.io`, linkPrecedence: "secondary", linkedId: x });
    const bridge = await env.DB.prepare(
      "INSERT INTO contact_bridges (kind, emailContactId, phoneContactId) VALUES ('legacy', ?1, ?2) RETURNING id",
    )
      .bind(x, y)
      .first<{ id: number }>();
    const res = await unmerge(x, { bridgeId: bridge?.id });
    expect(res.status).toBe(200);
    const { clusters } = await res.json<{ clusters: IdentifyResponse[] }>();
    expect(clusters.map((cluster) => cluster.primaryContactId)).toEqual([x, y]);
    expect(await separationsOf(y)).toMatchObject([{ lowContactId: x, highContactId: y }]);
    await expectInvariants();
  });

  it("404 for an unknown contact or a bridge of another cluster, 400 for a bad body or id, 403 for a caller", async () => {
    const first = await family();
    const second = await family();
    const missing = await unmerge(987654321, { bridgeId: first.bridgeId });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "contact_not_found" } });
    const elsewhere = await unmerge(first.a, { bridgeId: second.bridgeId });
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ error: { code: "bridge_not_found" } });
    for (const body of [{}, { bridgeId: "1" }, { bridgeId: 0 }, { bridgeId: 1.5 }, "not json"]) {
      const res = await unmerge(first.a, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await callAsAdmin("/contacts/zero/unmerge", { method: "POST", body: "{}" })).status).toBe(400);
    expect((await unmerge(first.a, { bridgeId: first.bridgeId }, call)).status).toBe(403);
    expect((await callAsAdmin(`/contacts/${first.a}/unmerge`)).status).toBe(405);
    // Nothing of it was written: the first family is still one cluster.
    const whole = await postIdentify({ email: first.mum });
    expect((await whole.json<IdentifyResponse>()).secondaryContactIds).toEqual([first.b, first.c]);
  });
});

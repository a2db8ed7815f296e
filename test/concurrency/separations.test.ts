import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { readTouchedClusters } from "../../src/db/reads";
import type { IdentifyResponse } from "../../src/domain/contact";
import { newBudget } from "../../src/durable/retry";
import { newContactObjects, ownerKey } from "../../src/durable/routing";
import { family, newPhone } from "../family";
import { callAsAdmin, countRows, expectInvariants, identify, LIMITS, postIdentify, unique } from "../helpers";

/** A family (see family()) whose bridge is unmerged: a and c are separated. */
async function unmergedFamily() {
  const members = await family();
  const res = await callAsAdmin(`/contacts/${members.a}/unmerge`, {
    method: "POST",
    body: JSON.stringify({ bridgeId: members.bridgeId }),
  });
  expect(res.status).toBe(200);
  return members;
}

/** Expects `body` to be answered with the cluster of `primary`, its phone refused as separated, nothing stored. */
async function expectRefused(body: Record<string, string>, primary: number) {
  const before = await countRows();
  const res = await postIdentify(body);
  expect(res.status).toBe(200);
  expect(res.headers.get("identity-ignored")).toBe("phoneNumber=separated");
  expect((await res.json<IdentifyResponse>()).primaryContactId).toBe(primary);
  expect(await countRows()).toBe(before);
}

const clusterOf = async (id: number) =>
  (await (await callAsAdmin(`/contacts/${id}`)).json<IdentifyResponse>()).primaryContactId;

describe("separations", () => {
  it("refuse the same merge request after an unmerge, and any other that would rejoin the pair", async () => {
    const { a, c, mum, son, work, home, office } = await unmergedFamily();
    await expectRefused({ email: mum, phoneNumber: office }, a);
    await expectRefused({ email: son, phoneNumber: office }, a);
    await expectRefused({ email: work, phoneNumber: home }, c);
    // A new value still joins the one cluster it matches.
    const joined = await identify({ email: `${unique("new")}@fam.io`, phoneNumber: office });
    expect(joined.primaryContactId).toBe(c);
    expect(await clusterOf(a)).toBe(a);
    await expectInvariants();
  });

  it("refuse a merge through a third cluster", async () => {
    const { a, c, mum, work } = await unmergedFamily();
    const shop = newPhone();
    const third = await identify({ email: `${unique("third")}@fam.io`, phoneNumber: shop });
    // The third cluster may join c's...
    const merged = await identify({ email: work, phoneNumber: shop });
    expect(merged.primaryContactId).toBe(c);
    expect(merged.secondaryContactIds).toContain(third.primaryContactId);
    // ...but then a's may not join it: the result would hold a and c.
    await expectRefused({ email: mum, phoneNumber: shop }, a);
    await expectInvariants();
  });

  it("hold under 64 concurrent requests that would re-merge the pair in different ways", async () => {
    const { a, c, mum, son, work, home, office } = await unmergedFamily();
    const bodies = Array.from({ length: 64 }, (_, i) => {
      const shapes = [
        { email: mum, phoneNumber: office },
        { email: son, phoneNumber: office },
        { email: work, phoneNumber: home },
        // Each with a new phone of its own for c's email, then a's email with that phone.
        { email: work, phoneNumber: `${office}${i % 10}` },
        { email: mum, phoneNumber: `${office}${i % 10}` },
      ];
      return shapes[i % shapes.length];
    });
    const answers = await Promise.all(bodies.map((body) => postIdentify(body)));
    for (const res of answers) expect([200, 503]).toContain(res.status);
    expect(answers.filter((res) => res.status === 200).length).toBeGreaterThan(32);
    expect(await clusterOf(a)).toBe(a);
    expect(await clusterOf(c)).toBe(c);
    const { results } = await env.DB.prepare(
      "SELECT coalesce(linkedId, id) AS root FROM contacts WHERE id IN (?1, ?2) AND deletedAt IS NULL",
    )
      .bind(a, c)
      .all<{ root: number }>();
    expect(results.map((row) => row.root).sort((x, y) => x - y)).toEqual([a, c]);
    await expectInvariants();
  });

  it("are rechecked by the guard: a merge planned without knowing one is aborted, then refused", async () => {
    const { a, mum, office } = await unmergedFamily();
    const who = { email: mum, phoneNumber: office };
    // The rows as a read made before the unmerge's separation would see them: no separations.
    const rows = await readTouchedClusters(database(env.DB), who, LIMITS);
    const key = ownerKey(rows, who, newContactObjects(env));
    const before = await countRows();
    const result = await env.RECONCILER.getByName(key).reconcile({
      key,
      who,
      rows,
      requestId: "guard-test",
      budget: newBudget(),
      limits: LIMITS,
    });
    expect(result).toMatchObject({
      kind: "done",
      outcome: "unchanged",
      ignored: [{ field: "phoneNumber", reason: "separated" }],
      response: { primaryContactId: a },
      // The guard aborted the planned merge once; the re-read brought the separation.
      retriesSpent: 1,
    });
    expect(await countRows()).toBe(before);
    await expectInvariants();
  });

  it("can be listed, lifted (merging nothing until the next request), and go with a deleted contact", async () => {
    const { a, c, mum, office } = await unmergedFamily();
    const [listed] = await (await callAsAdmin(`/contacts/${c}/separations`)).json<{ id: number }[]>();
    expect(listed).toMatchObject({ contactIds: [a, c] });
    const lifted = await callAsAdmin(`/separations/${listed?.id}`, { method: "DELETE" });
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toEqual(listed);
    expect(await clusterOf(c)).toBe(c);
    expect((await callAsAdmin(`/separations/${listed?.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await callAsAdmin("/separations/abc", { method: "DELETE" })).status).toBe(400);
    // Now the merge happens again.
    expect((await identify({ email: mum, phoneNumber: office })).secondaryContactIds).toContain(c);

    const other = await unmergedFamily();
    expect((await callAsAdmin(`/contacts/${other.c}`, { method: "DELETE" })).status).toBe(200);
    const { results } = await env.DB.prepare(
      "SELECT id FROM contact_separations WHERE ?1 IN (lowContactId, highContactId)",
    )
      .bind(other.c)
      .all();
    expect(results).toEqual([]);
  });

  it("unmerge racing identify and erasure: every answer sound, the invariants hold", async () => {
    for (let round = 0; round < 3; round++) {
      const tag = unique("race");
      const [mum, work] = [`${tag}mum@fam.io`, `${tag}work@fam.io`];
      const [home, office] = [newPhone(), newPhone()];
      const first = await identify({ email: mum, phoneNumber: home });
      const third = await identify({ email: work, phoneNumber: office });
      await identify({ email: mum, phoneNumber: office });
      const bridge = await env.DB.prepare("SELECT id FROM contact_bridges WHERE phoneContactId = ?1")
        .bind(third.primaryContactId)
        .first<{ id: number }>();
      const [unmerged, ...others] = await Promise.all([
        callAsAdmin(`/contacts/${first.primaryContactId}/unmerge`, {
          method: "POST",
          body: JSON.stringify({ bridgeId: bridge?.id }),
        }),
        postIdentify({ email: `${tag}new@fam.io`, phoneNumber: office }),
        postIdentify({ email: mum, phoneNumber: office }),
        callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ phoneNumber: home }) }),
      ]);
      expect([200, 409, 503], await unmerged?.clone().text()).toContain(unmerged?.status);
      for (const res of others) expect([200, 503]).toContain(res.status);
      await expectInvariants();
    }
  });
});

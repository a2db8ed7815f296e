import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { readTouchedClusters } from "../../src/db/reads";
import type { IdentifyResponse } from "../../src/domain/contact";
import { newBudget } from "../../src/durable/retry";
import { newContactObjects, ownerKey } from "../../src/durable/routing";
import { callWith, expectInvariants, insertRow, LIMITS, postIdentify, unique } from "../helpers";

/** Distinct emails and phones of the live cluster holding `phone`, counted in SQL over the whole cluster. */
async function clusterCounts(phone: string): Promise<{ emails: number; phones: number; contacts: number }> {
  const row = await env.DB.prepare(
    `WITH root AS (SELECT coalesce(linkedId, id) AS id FROM contacts WHERE phoneNumber = ?1 AND deletedAt IS NULL LIMIT 1)
     SELECT count(DISTINCT email) AS emails, count(DISTINCT phoneNumber) AS phones, count(*) AS contacts
       FROM contacts WHERE deletedAt IS NULL AND (id = (SELECT id FROM root) OR linkedId = (SELECT id FROM root))`,
  )
    .bind(phone)
    .first<{ emails: number; phones: number; contacts: number }>();
  if (!row) throw new Error("no cluster");
  return row;
}

describe("cluster limits under concurrency", () => {
  it("64 concurrent new emails for a cluster one below its limit leave it exactly at the limit", async () => {
    const tag = unique("c64");
    const phone = `+6${Date.now() % 1e9}001`;
    const primary = await insertRow({ email: `${tag}-0@x.io`, phoneNumber: phone, linkPrecedence: "primary" });
    for (let i = 1; i < LIMITS.emails - 1; i++) {
      await insertRow({
        email: `${tag}-${i}@x.io`,
        phoneNumber: phone,
        linkPrecedence: "secondary",
        linkedId: primary,
      });
    }
    expect(await clusterCounts(phone)).toMatchObject({ emails: LIMITS.emails - 1 });

    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, i) => postIdentify({ email: `${tag}-new${i}@x.io`, phoneNumber: phone })),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(64).fill(200));
    const headers = responses.map((res) => res.headers.get("identity-ignored"));
    expect(headers.filter((header) => header === null)).toHaveLength(1);
    expect(headers.filter((header) => header === "email=cluster_limit")).toHaveLength(63);
    const answers = await Promise.all(responses.map((res) => res.json<IdentifyResponse>()));
    expect(answers.every((answer) => answer.primaryContactId === primary)).toBe(true);
    expect(await clusterCounts(phone)).toEqual({ emails: LIMITS.emails, phones: 1, contacts: LIMITS.emails });
    await expectInvariants();
  });

  it("merges and inserts racing in different objects never take the merged cluster over a limit", async () => {
    // Small limits, so that the race is at the limit. The older cluster's object runs the
    // merges, the younger's the inserts: only the guard's recheck of the counts, inside
    // each write's transaction, keeps the two from adding up past the limit.
    const limits = { MAX_EMAILS_PER_CLUSTER: "4", MAX_PHONES_PER_CLUSTER: "4" };
    const post = (body: unknown) =>
      callWith(limits, "/identify", { method: "POST", body: JSON.stringify(body) }).then(async (res) => ({
        status: res.status,
        ignored: res.headers.get("identity-ignored"),
        body: await res.text(),
      }));
    for (let round = 0; round < 4; round++) {
      const tag = unique("race");
      const [older, younger] = [`+7${Date.now() % 1e9}${round}1`, `+7${Date.now() % 1e9}${round}2`];
      expect((await post({ email: `${tag}-old@x.io`, phoneNumber: older })).status).toBe(200);
      expect((await post({ email: `${tag}-young@x.io`, phoneNumber: younger })).status).toBe(200);
      expect((await post({ email: `${tag}-young2@x.io`, phoneNumber: younger })).status).toBe(200);

      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) =>
          i % 2 === 0
            ? post({ email: `${tag}-old@x.io`, phoneNumber: younger })
            : post({ email: `${tag}-add${i}@x.io`, phoneNumber: younger }),
        ),
      );
      for (const result of results) expect([200, 503], result.body).toContain(result.status);
      for (const phone of [older, younger]) {
        const counts = await clusterCounts(phone);
        expect(counts.emails).toBeLessThanOrEqual(4);
        expect(counts.phones).toBeLessThanOrEqual(4);
      }
      await expectInvariants();
    }
  });

  it("a merge planned on counts that concurrent inserts then raised is refused by the guard, not committed", async () => {
    const limits = { emails: 4, phones: 4 };
    const vars = { MAX_EMAILS_PER_CLUSTER: "4", MAX_PHONES_PER_CLUSTER: "4" };
    const post = (body: unknown) => callWith(vars, "/identify", { method: "POST", body: JSON.stringify(body) });
    const tag = unique("stale-merge");
    const [older, younger] = [`+7${Date.now() % 1e9}91`, `+7${Date.now() % 1e9}92`];
    expect((await post({ email: `${tag}-old@x.io`, phoneNumber: older })).status).toBe(200);
    expect((await post({ email: `${tag}-y0@x.io`, phoneNumber: younger })).status).toBe(200);

    // The merge's read: 1 + 1 emails, room to merge under 4.
    const who = { email: `${tag}-old@x.io`, phoneNumber: younger };
    const stale = await readTouchedClusters(database(env.DB), who, limits);
    // Meanwhile the younger cluster's own object stores three more emails: 1 + 4 would be 5.
    for (const i of [1, 2, 3])
      expect((await post({ email: `${tag}-y${i}@x.io`, phoneNumber: younger })).status).toBe(200);

    const key = ownerKey(stale, who, newContactObjects(env));
    const call = { key, who, rows: stale, requestId: "test-request", budget: newBudget(), limits };
    const result = await env.RECONCILER.getByName(key).reconcile(call);
    // Merging now would make 5 emails: the guard sees the new counts, the re-plan refuses.
    expect(result).toMatchObject({
      kind: "done",
      outcome: "unchanged",
      ignored: [{ field: "phoneNumber", reason: "cluster_limit" }],
    });
    expect(await clusterCounts(younger)).toEqual({ emails: 4, phones: 1, contacts: 4 });
    expect(await clusterCounts(older)).toEqual({ emails: 1, phones: 1, contacts: 1 });
    await expectInvariants();
  });
});

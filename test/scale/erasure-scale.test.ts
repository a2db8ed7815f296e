import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callAsAdmin, identify, unique } from "../helpers";

// Erasure of clusters far past the cluster limits: legacy data (merges from before the
// limits) can hold tens of thousands of strangers under one placeholder, which is what
// merge protection exists for. Seeded with raw SQL, erased through the Worker.

const SIZE = 50_000;

/**
 * A legacy cluster of SIZE contacts: the one `identify` made, and SIZE - 1 secondaries
 * linked to it, each with an email of its own and the same phone. Returns its primary and phone.
 */
async function seedLegacyCluster(tag: string): Promise<{ primaryId: number; phoneNumber: string }> {
  const first = await identify({ email: `${tag}-0@x.io`, phoneNumber: `+7${String(Date.now()).slice(-9)}1` });
  const primaryId = first.primaryContactId;
  const phoneNumber = first.phoneNumbers[0] ?? "";
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO contacts (email, phoneNumber, linkPrecedence, linkedId)
     SELECT ?2 || '-' || i || '@x.io', ?3, 'secondary', ?4 FROM n`,
  )
    .bind(SIZE - 1, tag, phoneNumber, primaryId)
    .run();
  return { primaryId, phoneNumber };
}

const count = async (where: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(`SELECT count(*) AS n FROM contacts WHERE ${where}`)
      .bind(...params)
      .first<{ n: number }>()
  )?.n;

describe(`erasure of a ${SIZE}-contact legacy cluster`, () => {
  it("DELETE /contacts/{id} deletes every row of it", { timeout: 120_000 }, async () => {
    const tag = unique("scale-del");
    const { primaryId } = await seedLegacyCluster(tag);
    expect(await count("id = ?1 OR linkedId = ?1", primaryId)).toBe(SIZE);
    const started = Date.now();
    const res = await callAsAdmin(`/contacts/${primaryId}`, { method: "DELETE" });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(200);
    console.error(`delete ${SIZE}: ${Date.now() - started} ms`);
    expect((JSON.parse(text) as { erasedContactIds: number[] }).erasedContactIds).toHaveLength(SIZE);
    expect(await count("id = ?1 OR linkedId = ?1", primaryId)).toBe(0);
    expect(await count("email LIKE ?", `${tag}-%`)).toBe(0);
  });

  it("POST /erase of the value its 50k contacts hold erases it from each", { timeout: 120_000 }, async () => {
    const tag = unique("scale-val");
    const { primaryId, phoneNumber } = await seedLegacyCluster(tag);
    const started = Date.now();
    const res = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ phoneNumber }) });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(200);
    console.error(`erase value of ${SIZE}: ${Date.now() - started} ms`);
    expect(await count("phoneNumber = ?", phoneNumber)).toBe(0);
    // Each contact keeps its email, and is now a cluster of its own (nothing else linked them).
    expect(await count("email LIKE ? AND linkPrecedence = 'primary'", `${tag}-%`)).toBe(SIZE);
    expect(await count("linkedId = ?", primaryId)).toBe(0);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INVARIANT_VIOLATIONS_SQL, type InvariantViolation } from "../../src/db/invariants";
import { insertRow, unique } from "../helpers";

// The invariant checker over legacy clusters far past the cluster limits (seeded with raw
// SQL, as merges from before the limits left them): it must stay roughly linear, where
// contact-to-contact reach was quadratic in the holders of a shared value.

const SIZE = 20_000;

/** SIZE - 1 secondaries of `primaryId`, each with an email of its own, and `phoneNumber` or a phone of its own. */
async function seedSecondaries(tag: string, primaryId: number, phoneNumber: string | null): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO contacts (email, phoneNumber, linkPrecedence, linkedId, createdAt)
     SELECT ?2 || '-' || i || '@x.io', coalesce(?4, ?2 || '-' || i), 'secondary', ?3, '2020-01-02T00:00:00.000Z' FROM n`,
  )
    .bind(SIZE - 1, tag, primaryId, phoneNumber)
    .run();
}

/** A cluster of SIZE contacts held together by one phone they all share. Returns its primary. */
async function seedSharedPhoneCluster(): Promise<number> {
  const tag = unique("inv-phone");
  const phoneNumber = `+7${String(Date.now()).slice(-9)}`;
  const primaryId = await insertRow({
    email: `${tag}-0@x.io`,
    phoneNumber,
    linkPrecedence: "primary",
    createdAt: "2020-01-01T00:00:00.000Z",
  });
  await seedSecondaries(tag, primaryId, phoneNumber);
  return primaryId;
}

/**
 * A cluster of SIZE contacts that share no value, held together only by the legacy bridges
 * migration 0002 made (each member to the oldest). Returns its primary.
 */
async function seedLegacyBridgeCluster(): Promise<number> {
  const tag = unique("inv-bridge");
  const primaryId = await insertRow({
    email: `${tag}-0@x.io`,
    linkPrecedence: "primary",
    createdAt: "2020-01-01T00:00:00.000Z",
  });
  await seedSecondaries(tag, primaryId, null);
  await env.DB.prepare(
    `INSERT INTO contact_bridges (kind, emailContactId, phoneContactId)
     SELECT 'legacy', ?1, id FROM contacts WHERE linkedId = ?1`,
  )
    .bind(primaryId)
    .run();
  return primaryId;
}

async function audit(label: string): Promise<InvariantViolation[]> {
  const started = Date.now();
  const { results } = await env.DB.prepare(INVARIANT_VIOLATIONS_SQL).all<InvariantViolation>();
  console.error(`invariant audit, ${label}: ${Date.now() - started} ms`);
  return results;
}

describe(`the invariant checker over ${SIZE}-contact legacy clusters`, () => {
  it("finds no violation in a shared-phone cluster and a legacy-bridge cluster", { timeout: 120_000 }, async () => {
    await seedSharedPhoneCluster();
    await seedLegacyBridgeCluster();
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM contacts").first<{ n: number }>()) ?? { n: 0 };
    expect(n).toBe(2 * SIZE);
    expect(await audit(`2 x ${SIZE} contacts, sound`)).toEqual([]);
  });

  it("reports a contact planted in each that nothing links to its primary", { timeout: 120_000 }, async () => {
    const phonePrimary = await seedSharedPhoneCluster();
    const bridgePrimary = await seedLegacyBridgeCluster();
    const plant = (linkedId: number) =>
      insertRow({
        email: `${unique("inv-lost")}@x.io`,
        phoneNumber: `+9${String(linkedId).padStart(9, "0")}`,
        linkPrecedence: "secondary",
        linkedId,
        createdAt: "2020-01-03T00:00:00.000Z",
      });
    const lostFromPhone = await plant(phonePrimary);
    const lostFromBridges = await plant(bridgePrimary);
    const results = await audit(`4 x ${SIZE} contacts, 2 planted`);
    expect(results).toEqual([
      {
        violation: "cluster_not_connected",
        contactId: lostFromPhone,
        detail: `no shared value or bridge links it to primary ${phonePrimary}`,
      },
      {
        violation: "cluster_not_connected",
        contactId: lostFromBridges,
        detail: `no shared value or bridge links it to primary ${bridgePrimary}`,
      },
    ]);
  });
});

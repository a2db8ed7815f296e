import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { INVARIANT_VIOLATIONS_SQL, type InvariantViolation } from "../../src/db/invariants";
import { expectInvariants, identify, insertRow } from "../helpers";

// Own file on purpose: storage is isolated per test file, and this one breaks the data.
it("the invariant checker names every kind of violation it is given", async () => {
  await identify({ email: "sound@x.io", phoneNumber: "1110001" });
  await identify({ email: "sound2@x.io", phoneNumber: "1110001" });
  await expectInvariants();

  const t = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, "0")}:00.000Z`;
  const p1 = await insertRow({ email: "dup@x.io", linkPrecedence: "primary", createdAt: t(1) });
  const p2 = await insertRow({ email: "dup@x.io", phoneNumber: "2220002", linkPrecedence: "primary", createdAt: t(2) });
  const chained = await insertRow({
    phoneNumber: "3330003",
    linkPrecedence: "secondary",
    linkedId: p2,
    createdAt: t(3),
  });
  const chain = await insertRow({
    phoneNumber: "3330004",
    linkPrecedence: "secondary",
    linkedId: chained,
    createdAt: t(4),
  });
  const older = await insertRow({ phoneNumber: "4440004", linkPrecedence: "secondary", linkedId: p1, createdAt: t(0) });
  const gone = await insertRow({ email: "gone@x.io", linkPrecedence: "primary", createdAt: t(5), deletedAt: t(6) });
  const orphan = await insertRow({
    email: "orphan@x.io",
    linkPrecedence: "secondary",
    linkedId: gone,
    createdAt: t(7),
  });
  const empty = await insertRow({ linkPrecedence: "primary", createdAt: t(8) });
  // Two sound clusters, but a bridge that says they are one.
  const x = await insertRow({ email: "bx@x.io", linkPrecedence: "primary", createdAt: t(9) });
  const y = await insertRow({ email: "by@x.io", linkPrecedence: "primary", createdAt: t(10) });
  await env.DB.prepare("INSERT INTO contact_bridges (emailContactId, phoneContactId) VALUES (?, ?)").bind(x, y).run();
  // A separation between two contacts of one cluster (invariant 6).
  await env.DB.prepare("INSERT INTO contact_separations (lowContactId, highContactId, requestId) VALUES (?, ?, 'test')")
    .bind(p2, chained)
    .run();

  const { results } = await env.DB.prepare(INVARIANT_VIOLATIONS_SQL).all<InvariantViolation>();
  const found = results.map((r) => [r.violation, r.contactId]).sort();
  expect(found).toEqual(
    [
      ["email_in_several_clusters", p1],
      ["secondary_without_live_primary", chain],
      ["primary_not_oldest", p1],
      ["secondary_without_live_primary", orphan],
      ["contact_without_identifier", empty],
      ["bridge_across_clusters", x],
      ["separated_contacts_in_one_cluster", p2],
      // Linked to a primary that no shared value or bridge leads to.
      ["cluster_not_connected", chained],
      ["cluster_not_connected", chain],
      ["cluster_not_connected", older],
    ].sort(),
  );
  expect(results.find((r) => r.contactId === p1 && r.violation === "primary_not_oldest")?.detail).toContain(
    String(older),
  );
});

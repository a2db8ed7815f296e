import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import { callAsAdmin, expectInvariants, insertRow } from "../helpers";

// Own file on purpose (storage is per file): rows stored as before bridges existed, then the
// legacy-bridge migration run over them, as `wrangler d1 migrations apply` would on live data.

const t = (minute: number) => `2024-01-01T00:${String(minute).padStart(2, "0")}:00.000Z`;
const ids: Record<string, number> = {};

beforeAll(async () => {
  // george and biff, merged by a request {george's email, biff's phone}: no row, no bridge.
  ids.george = await insertRow({
    email: "george@legacy.edu",
    phoneNumber: "919191",
    linkPrecedence: "primary",
    createdAt: t(1),
  });
  ids.biff = await insertRow({
    email: "biff@legacy.edu",
    phoneNumber: "717171",
    linkPrecedence: "secondary",
    linkedId: ids.george,
    createdAt: t(2),
  });
  // A hub and two others it merged, also without a trace.
  ids.hub = await insertRow({ email: "hub@legacy.edu", linkPrecedence: "primary", createdAt: t(3) });
  ids.left = await insertRow({
    email: "left@legacy.edu",
    linkPrecedence: "secondary",
    linkedId: ids.hub,
    createdAt: t(4),
  });
  ids.right = await insertRow({
    email: "right@legacy.edu",
    linkPrecedence: "secondary",
    linkedId: ids.hub,
    createdAt: t(5),
  });

  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0002_legacy_bridges"));
  if (!migration) throw new Error("no legacy-bridge migration");
  for (const query of migration.queries) await env.DB.prepare(query).run();
  await expectInvariants();
});

async function erase(body: unknown) {
  const res = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json<{ erasedContactIds: number[]; clusters: IdentifyResponse[] }>();
}

describe("a cluster merged before bridges were recorded", () => {
  it("stays one cluster when george's email is erased: re-forming keeps legacy merges", async () => {
    const erased = await erase({ email: "george@legacy.edu" });
    expect(erased.clusters).toEqual([
      {
        primaryContactId: ids.george,
        emails: ["biff@legacy.edu"],
        phoneNumbers: ["919191", "717171"],
        secondaryContactIds: [ids.biff],
      },
    ]);
    await expectInvariants();
  });

  it("keeps the others tied when the contact that tied them is deleted", async () => {
    const erased = await erase({ email: "hub@legacy.edu" });
    expect(erased.erasedContactIds).toEqual([ids.hub]);
    expect(erased.clusters).toEqual([
      {
        primaryContactId: ids.left,
        emails: ["left@legacy.edu", "right@legacy.edu"],
        phoneNumbers: [],
        secondaryContactIds: [ids.right],
      },
    ]);
    const { results } = await env.DB.prepare(
      "SELECT kind, emailContactId, phoneContactId FROM contact_bridges WHERE ?1 IN (emailContactId, phoneContactId)",
    )
      .bind(ids.left)
      .all();
    expect(results).toEqual([{ kind: "legacy", emailContactId: ids.left, phoneContactId: ids.right }]);
    await expectInvariants();
  });
});

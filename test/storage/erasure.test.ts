import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { commitErasure, erasureStamp, readErasureScope } from "../../src/db/erasure";
import { ClusterChangedError } from "../../src/db/guard";
import { type ErasureTarget, planErasure } from "../../src/domain/erasure";
import { callAsAdmin, expectInvariants, identify, storedRows, unique } from "../helpers";

const db = database(env.DB);

let phones = 0;
const newPhone = () => `+8${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

/** Reads and plans an erasure, lets `meanwhile` change the data, then tries to commit the stale plan. */
async function commitAfter(target: ErasureTarget, meanwhile: () => Promise<unknown>): Promise<unknown> {
  const { rows, bridges } = await readErasureScope(db, target);
  const plan = planErasure(rows, bridges, target);
  await meanwhile();
  return commitErasure(db, target, erasureStamp(rows, bridges), plan, "stale-plan");
}

describe("the guard of an erasure batch", () => {
  it("refuses a plan made before a new contact took the erased value, and writes nothing", async () => {
    const phoneNumber = newPhone();
    await identify({ email: `${unique("a")}@g.io`, phoneNumber });
    const target = { values: { phoneNumber } };
    const late = `${unique("late")}@g.io`;
    await expect(commitAfter(target, () => identify({ email: late, phoneNumber }))).rejects.toBeInstanceOf(
      ClusterChangedError,
    );
    expect(await storedRows("phoneNumber = ?", phoneNumber)).toHaveLength(2);
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM contact_events WHERE requestId = 'stale-plan'").first("n"),
    ).toBe(0);
  });

  it("refuses a plan made before another object merged the cluster into an older one", async () => {
    const older = await identify({ email: `${unique("older")}@g.io`, phoneNumber: newPhone() });
    const phoneNumber = newPhone();
    const member = await identify({ email: `${unique("m")}@g.io`, phoneNumber });
    await identify({ email: `${unique("m2")}@g.io`, phoneNumber });
    const target = { values: { phoneNumber } };
    const merge = () => identify({ email: member.emails[0], phoneNumber: older.phoneNumbers[0] });
    await expect(commitAfter(target, merge)).rejects.toBeInstanceOf(ClusterChangedError);
    await expectInvariants();
    // Through the API, the same erasure then succeeds on fresh rows, and keeps the merge.
    const res = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ phoneNumber }) });
    expect(res.status).toBe(200);
    await expectInvariants();
    expect((await identify({ email: member.emails[0] })).primaryContactId).toBe(older.primaryContactId);
  });

  it("refuses a plan made before another erasure changed the cluster", async () => {
    const phoneNumber = newPhone();
    const email = `${unique("e")}@g.io`;
    const { primaryContactId } = await identify({ email, phoneNumber });
    const target = { cluster: primaryContactId };
    const other = () => callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ phoneNumber }) });
    await expect(commitAfter(target, other)).rejects.toBeInstanceOf(ClusterChangedError);
    expect(await storedRows("id = ?", primaryContactId)).toMatchObject([{ email, phoneNumber: null }]);
  });

  it("commits a plan on fresh rows in one batch", async () => {
    const phoneNumber = newPhone();
    const { primaryContactId } = await identify({ email: `${unique("f")}@g.io`, phoneNumber });
    await commitAfter({ cluster: primaryContactId }, async () => undefined);
    expect(await storedRows("id = ?", primaryContactId)).toEqual([]);
    await expectInvariants();
  });
});

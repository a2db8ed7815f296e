import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Identifiers, IdentifyResponse } from "../../src/domain/contact";
import { DEFAULT_CLUSTER_LIMIT } from "../../src/domain/limits";
import type { ReconcileCall } from "../../src/durable/reconciler";
import { newBudget } from "../../src/durable/retry";
import { newContactObjects, ownerKey } from "../../src/durable/routing";
import { callAsAdmin, expectInvariants, identify, postIdentify, storedRows, unique } from "../helpers";

// Erasure is serialised through the object owning the cluster and guarded like every write;
// these scenarios fire it together with /identify on the same cluster, then check the
// contract: every invariant holds, and no erased value is stored or answered unless a
// request sent it again, which then committed after the erasure.

let phones = 0;
const newPhone = () => `+6${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

const erase = (body: unknown) => callAsAdmin("/erase", { method: "POST", body: JSON.stringify(body) });

/** The request id an answer carries: the one its events were recorded with. */
const requestIdOf = (res: Response): string => res.headers.get("x-request-id") ?? "";

/** Identify answers, each 200 or (a cluster too busy) 503, never anything else. */
async function identifyAll(bodies: unknown[]): Promise<IdentifyResponse[]> {
  const responses = await Promise.all(bodies.map((body) => postIdentify(body)));
  const answers: IdentifyResponse[] = [];
  for (const res of responses) {
    expect([200, 503]).toContain(res.status);
    if (res.status === 200) answers.push(await res.json<IdentifyResponse>());
  }
  return answers;
}

/**
 * Every stored row holding `value` was inserted by a commit after the erasure's own (its
 * `created`/`linked` event is younger than the `erased` event of `requestId`).
 */
async function expectOnlyResentAfter(value: string, requestId: string): Promise<void> {
  const erased = await env.DB.prepare(
    "SELECT min(id) AS id FROM contact_events WHERE requestId = ? AND kind = 'erased'",
  )
    .bind(requestId)
    .first<{ id: number | null }>();
  expect(erased?.id).toBeTypeOf("number");
  for (const row of await storedRows("email = ?1 OR phoneNumber = ?1", value)) {
    const inserted = await env.DB.prepare(
      `SELECT min(e.id) AS id FROM contact_events e
        WHERE e.kind IN ('created', 'linked') AND EXISTS (SELECT 1 FROM json_each(e.contactIds) WHERE value = ?1)`,
    )
      .bind(row.id)
      .first<{ id: number | null }>();
    expect(inserted?.id, `contact ${row.id} holds the erased value`).toBeGreaterThan(erased?.id ?? Infinity);
  }
}

describe("an erasure racing /identify on the same cluster", () => {
  it("leaves no erased value and every invariant, whatever the interleaving", async () => {
    // An older cluster: merging into it is written by its own object, not the erasure's.
    const other = await identify({ email: `${unique("other")}@x.io`, phoneNumber: newPhone() });
    const shared = newPhone();
    const emails = Array.from({ length: 6 }, () => `${unique("member")}@x.io`);
    for (const email of emails) await identify({ email, phoneNumber: shared });

    const racing = identifyAll([
      // New phones for members, merges of another cluster into members, and plain repeats.
      ...emails.map((email) => ({ email, phoneNumber: newPhone() })),
      ...emails.slice(0, 3).map((email) => ({ email, phoneNumber: other.phoneNumbers[0] })),
      ...emails.map((email) => ({ email })),
    ]);
    const [res] = await Promise.all([erase({ phoneNumber: shared }), racing]);
    expect(res.status).toBe(200);
    await racing;

    await expectInvariants();
    expect(await storedRows("phoneNumber = ?", shared)).toEqual([]);
    // Requests sent after the erasure answered never see the value.
    for (const answer of await identifyAll(emails.map((email) => ({ email })))) {
      expect(answer.phoneNumbers).not.toContain(shared);
    }
  });

  it("erases what concurrent links add to the cluster before it, and keeps what they add after", async () => {
    const phoneNumber = newPhone();
    const first = `${unique("first")}@x.io`;
    await identify({ email: first, phoneNumber });
    const newcomers = Array.from({ length: 16 }, () => `${unique("late")}@x.io`);
    // Each newcomer sends the erased phone again: those that commit after the erasure keep it.
    const [res] = await Promise.all([
      erase({ phoneNumber }),
      identifyAll(newcomers.map((email) => ({ email, phoneNumber }))),
    ]);
    expect(res.status).toBe(200);

    await expectInvariants();
    await expectOnlyResentAfter(phoneNumber, requestIdOf(res));
    // Every newcomer's email is still stored (erasing the phone keeps the rest of a row).
    expect(await storedRows("email IN (SELECT value FROM json_each(?))", JSON.stringify(newcomers))).toHaveLength(
      newcomers.length,
    );
  });

  it("deleting a cluster while requests extend and merge it deletes all it held at that moment", async () => {
    const other = await identify({ email: `${unique("other")}@x.io`, phoneNumber: newPhone() });
    const [email, phoneNumber] = [`${unique("doomed")}@x.io`, newPhone()];
    const { primaryContactId } = await identify({ email, phoneNumber });
    const [res] = await Promise.all([
      callAsAdmin(`/contacts/${primaryContactId}`, { method: "DELETE" }),
      identifyAll([
        ...Array.from({ length: 10 }, () => ({ email: `${unique("grow")}@x.io`, phoneNumber })),
        { email, phoneNumber: other.phoneNumbers[0] },
        { email: other.emails[0], phoneNumber },
      ]),
    ]);
    expect(res.status).toBe(200);
    await expectInvariants();
    // Whatever still holds the cluster's values was sent again and stored after the deletion.
    await expectOnlyResentAfter(email, requestIdOf(res));
    await expectOnlyResentAfter(phoneNumber, requestIdOf(res));
    expect(await storedRows("id = ?", primaryContactId)).toEqual([]);
  });

  it("concurrent erasures of the values of one cluster all finish, and leave none of them", async () => {
    const phoneNumber = newPhone();
    const emails = Array.from({ length: 8 }, () => `${unique("e")}@x.io`);
    for (const email of emails) await identify({ email, phoneNumber });
    const responses = await Promise.all([
      ...emails.map((email) => callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ email }) })),
      callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ phoneNumber }) }),
      ...emails.slice(0, 4).map((email) => postIdentify({ email, phoneNumber: newPhone() })),
    ]);
    for (const res of responses) expect([200, 404, 503]).toContain(res.status);
    expect(responses.slice(0, emails.length + 1).every((res) => res.status === 200)).toBe(true);
    await expectInvariants();
    expect(await storedRows("phoneNumber = ?", phoneNumber)).toEqual([]);
    for (const email of emails) {
      const rows = await storedRows("email = ?", email);
      // Only a racing identify that committed after its email's erasure may have stored it again.
      for (const row of rows) expect(row.phoneNumber).not.toBe(phoneNumber);
    }
  });

  it("an object that wrote a contact before its erasure never plans on what it remembers of it", async () => {
    const [email, phoneNumber] = [`${unique("remembered")}@x.io`, newPhone()];
    const created = await identify({ email, phoneNumber });
    // The warm object that created the contact remembers its cluster; the erasure runs elsewhere.
    const key = ownerKey([], { email }, newContactObjects(env));
    for (const body of [{ email }, { phoneNumber }]) {
      expect((await callAsAdmin("/erase", { method: "POST", body: JSON.stringify(body) })).status).toBe(200);
    }
    expect(await storedRows("id = ?", created.primaryContactId)).toEqual([]);

    // A neighbour's call starts a commit there; the email's, queued behind it, is planned after.
    const call = (who: Identifiers): ReconcileCall => ({
      key,
      who,
      rows: [],
      requestId: unique("remembered"),
      budget: newBudget(),
      limits: { emails: DEFAULT_CLUSTER_LIMIT, phones: DEFAULT_CLUSTER_LIMIT },
    });
    const object = env.RECONCILER.getByName(key);
    const neighbour = object.reconcile(call({ email: `${unique("neighbour")}@x.io` }));
    const result = await object.reconcile(call({ email }));
    await neighbour;
    expect(result).toMatchObject({ kind: "done", outcome: "created", response: { emails: [email], phoneNumbers: [] } });
    await expectInvariants();
  });
});

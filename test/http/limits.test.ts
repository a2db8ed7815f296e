import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import {
  callAsAdmin,
  callWith,
  expectInvariants,
  insertRow,
  LIMITS,
  NO_OBJECTS,
  postIdentify,
  recordingDb,
  requestLogLine,
  storedRows,
  unique,
} from "../helpers";

let log: MockInstance<typeof console.log>;
beforeEach(() => {
  log = vi.spyOn(console, "log");
});
afterEach(() => {
  vi.restoreAllMocks();
});

const logLine = (res: Response) => requestLogLine(log, res);

/** Small limits, so that a test reaches them in a few requests. */
const SMALL = { MAX_EMAILS_PER_CLUSTER: "3", MAX_PHONES_PER_CLUSTER: "2" };

const post = (body: unknown, overrides: Partial<Env> = SMALL) =>
  callWith(overrides, "/identify", { method: "POST", body: JSON.stringify(body) });

async function answer(res: Response, ignored: string | null = null): Promise<IdentifyResponse> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("identity-ignored")).toBe(ignored);
  return JSON.parse(text) as IdentifyResponse;
}

let phones = 0;
const newPhone = () => `+5${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

/**
 * A cluster written straight into D1 (as older data would be): a primary with `emails[0]`
 * and `phone`, then one secondary per further email, each with `phone`, one second apart.
 */
async function seedCluster(emails: string[], phone: string): Promise<number> {
  const primary = await insertRow({ email: emails[0] ?? null, phoneNumber: phone, linkPrecedence: "primary" });
  await env.DB.prepare(
    `INSERT INTO contacts (email, phoneNumber, linkPrecedence, linkedId, createdAt, updatedAt)
     SELECT value, ?2, 'secondary', ?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || key || ' seconds'),
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       FROM json_each(?3)`,
  )
    .bind(primary, phone, JSON.stringify(emails.slice(1)))
    .run();
  return primary;
}

const emailsOf = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}@x.io`);

describe("cluster limits by insert", () => {
  it("drops a new email once the cluster holds MAX_EMAILS_PER_CLUSTER, and still stores a new phone", async () => {
    const tag = unique("ins");
    const phone = newPhone();
    await answer(await post({ email: `${tag}-0@x.io`, phoneNumber: phone }));
    await answer(await post({ email: `${tag}-1@x.io`, phoneNumber: phone }));
    const full = await answer(await post({ email: `${tag}-2@x.io`, phoneNumber: phone }));
    expect(full.emails).toHaveLength(3);

    const refused = await post({ email: `${tag}-3@x.io`, phoneNumber: phone });
    expect(await answer(refused, "email=cluster_limit")).toEqual(full);
    expect(logLine(refused)).toMatchObject({ outcome: "unchanged", ignored: ["email=cluster_limit"] });
    expect(await storedRows("email = ?", `${tag}-3@x.io`)).toEqual([]);

    // The cluster still takes a phone: its email limit does not freeze it.
    const second = newPhone();
    const linked = await answer(await post({ email: `${tag}-0@x.io`, phoneNumber: second }));
    expect(linked.phoneNumbers).toEqual([phone, second]);
    expect(linked.emails).toEqual(full.emails);
    expect(await answer(await post({ email: `${tag}-5@x.io`, phoneNumber: second }), "email=cluster_limit")).toEqual(
      linked,
    );
    await expectInvariants();
  });

  it("drops a new phone once the cluster holds MAX_PHONES_PER_CLUSTER, and still stores a new email", async () => {
    const email = `${unique("phones")}@x.io`;
    const [p1, p2, p3] = [newPhone(), newPhone(), newPhone()];
    await answer(await post({ email, phoneNumber: p1 }));
    const full = await answer(await post({ email, phoneNumber: p2 }));
    expect(full.phoneNumbers).toEqual([p1, p2]);
    expect(await answer(await post({ email, phoneNumber: p3 }), "phoneNumber=cluster_limit")).toEqual(full);

    // The dropped phone was never stored: sent with another email, it is a new customer's.
    const other = `${unique("more")}@x.io`;
    const fresh = await answer(await post({ email: other, phoneNumber: p3 }));
    expect(fresh).toMatchObject({ emails: [other], phoneNumbers: [p3], secondaryContactIds: [] });
    expect(fresh.primaryContactId).not.toBe(full.primaryContactId);
  });

  it("holds at the default limit of 50 as wrangler.toml ships it", async () => {
    expect(LIMITS).toEqual({ emails: 50, phones: 50 });
    const tag = unique("fifty");
    const phone = newPhone();
    await seedCluster(emailsOf(tag, 49), phone);
    const full = await answer(await postIdentify({ email: `${tag}-49@x.io`, phoneNumber: phone }));
    expect(full.emails).toHaveLength(50);
    const res = await postIdentify({ email: `${tag}-50@x.io`, phoneNumber: phone });
    expect(await answer(res, "email=cluster_limit")).toEqual(full);
  });
});

describe("cluster limits by merge", () => {
  it("refuses a merge whose result would exceed a limit: the email's cluster, phone dropped, nothing stored", async () => {
    const [a, b] = [unique("ma"), unique("mb")];
    const [pa, pb] = [newPhone(), newPhone()];
    await answer(await post({ email: `${a}-0@x.io`, phoneNumber: pa }));
    const clusterA = await answer(await post({ email: `${a}-1@x.io`, phoneNumber: pa }));
    await answer(await post({ email: `${b}-0@x.io`, phoneNumber: pb }));
    const clusterB = await answer(await post({ email: `${b}-1@x.io`, phoneNumber: pb }));
    const before = await storedRows();

    // 2 + 2 emails would exceed 3.
    const res = await post({ email: `${b}-0@x.io`, phoneNumber: pa });
    expect(await answer(res, "phoneNumber=cluster_limit")).toEqual(clusterB);
    expect(await storedRows()).toEqual(before);
    expect(await answer(await post({ email: `${a}-0@x.io`, phoneNumber: pb }), "phoneNumber=cluster_limit")).toEqual(
      clusterA,
    );
    await expectInvariants();
  });

  it("merges when the result stays within the limits", async () => {
    const [a, b] = [unique("ok-a"), unique("ok-b")];
    const [pa, pb] = [newPhone(), newPhone()];
    const clusterA = await answer(await post({ email: `${a}@x.io`, phoneNumber: pa }));
    await answer(await post({ email: `${b}@x.io`, phoneNumber: pb }));
    const merged = await answer(await post({ email: `${a}@x.io`, phoneNumber: pb }));
    expect(merged).toMatchObject({ primaryContactId: clusterA.primaryContactId, phoneNumbers: [pa, pb] });
    // Now at 2 phones: a third cluster cannot join by its phone.
    const c = await answer(await post({ email: `${unique("ok-c")}@x.io`, phoneNumber: newPhone() }));
    const refused = await post({ email: `${a}@x.io`, phoneNumber: c.phoneNumbers[0] });
    expect(await answer(refused, "phoneNumber=cluster_limit")).toEqual(merged);
  });
});

describe("clusters already over a limit (older data, or a lowered limit)", () => {
  it("are answered as they are, bounded, never grow, and cost no object call", async () => {
    const tag = unique("legacy");
    const phone = newPhone();
    const primary = await seedCluster(emailsOf(tag, 60), phone);
    const small = await answer(await postIdentify({ email: `${unique("small")}@x.io`, phoneNumber: newPhone() }));
    const before = await storedRows();

    const { db, statements } = recordingDb();
    const noObjects = { DB: db, RECONCILER: NO_OBJECTS };
    const repeat = await answer(await post({ phoneNumber: phone }, noObjects));
    expect(repeat.primaryContactId).toBe(primary);
    // The answer is bounded by the limits: the primary's email first, then the oldest others.
    expect(repeat.emails).toEqual(emailsOf(tag, 50));
    expect(repeat.phoneNumbers).toEqual([phone]);
    expect(repeat.secondaryContactIds.length).toBeLessThanOrEqual(LIMITS.emails + LIMITS.phones - 1);

    for (const body of [
      { email: `${tag}-new@x.io`, phoneNumber: phone }, // a new email for it
      { email: `${tag}-59@x.io`, phoneNumber: newPhone() }, // a new phone, by a contact past the answer's bound
    ]) {
      const field = "email" in body && body.email.endsWith("new@x.io") ? "email" : "phoneNumber";
      const res = await post(body, noObjects);
      expect(await answer(res, `${field}=cluster_limit`)).toEqual(repeat);
      expect(logLine(res)).toMatchObject({ objectCalls: 0, d1RoundTrips: 1, outcome: "unchanged" });
    }
    // A merge with it, either way round.
    const merge = await post({ email: small.emails[0], phoneNumber: phone }, noObjects);
    expect(await answer(merge, "phoneNumber=cluster_limit")).toEqual(small);
    const reverse = await post({ email: `${tag}-3@x.io`, phoneNumber: small.phoneNumbers[0] }, noObjects);
    expect(await answer(reverse, "phoneNumber=cluster_limit")).toEqual(repeat);

    expect(statements.length).toBeGreaterThan(0);
    expect(await storedRows()).toEqual(before);
    const admin = await callAsAdmin(`/contacts/${primary}`);
    expect((await admin.json<IdentifyResponse>()).emails).toHaveLength(50);
  });

  it("a lowered limit freezes a cluster that was within the old one", async () => {
    const email = `${unique("lowered")}@x.io`;
    const [p1, p2] = [newPhone(), newPhone()];
    await answer(await post({ email, phoneNumber: p1 }));
    const grown = await answer(await post({ email, phoneNumber: p2 }));
    const lowered = { MAX_EMAILS_PER_CLUSTER: "3", MAX_PHONES_PER_CLUSTER: "1" };
    const res = await post({ email: `${unique("new")}@x.io`, phoneNumber: p1 }, lowered);
    expect(await answer(res, "email=cluster_limit")).toMatchObject({ primaryContactId: grown.primaryContactId });
    expect(await storedRows("phoneNumber IN (?, ?)", p1, p2)).toHaveLength(2);
  });
});

describe("malformed limits", () => {
  it.each([["0"], ["-1"], ["fifty"], ["1001"], ["2.5"]])(
    "MAX_EMAILS_PER_CLUSTER=%s fails closed with 500",
    async (value) => {
      const email = `${unique("badlimit")}@x.io`;
      const res = await post({ email }, { MAX_EMAILS_PER_CLUSTER: value });
      expect(res.status).toBe(500);
      expect(String(logLine(res).detail)).toContain("MAX_EMAILS_PER_CLUSTER must be a whole number");
      expect(await storedRows("email = ?", email)).toEqual([]);
    },
  );
});

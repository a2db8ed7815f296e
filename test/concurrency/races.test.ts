import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import { REQUEST_BUDGET } from "../../src/durable/retry";
import { identifyContact } from "../../src/usecases/identify";
import {
  callWith,
  clusterRows,
  d1Sessions,
  emailsOfOneObject,
  expectInvariants,
  identify,
  LIMITS,
  postIdentify,
  storedRows,
  unique,
} from "../helpers";

/** Fires all bodies at once and expects every answer to be a 200. */
async function fireAtOnce(bodies: unknown[]): Promise<IdentifyResponse[]> {
  return Promise.all(bodies.map((body) => identify(body)));
}

/**
 * After a scenario: the whole table passes the invariant checker, and looking up
 * every identifier involved answers with one and the same cluster holding them all.
 */
async function expectOneCluster(emails: string[], phones: string[]): Promise<IdentifyResponse> {
  await expectInvariants();
  const answers = await Promise.all([
    ...emails.map((email) => identify({ email })),
    ...phones.map((phoneNumber) => identify({ phoneNumber })),
  ]);
  const [first] = answers;
  if (!first) throw new Error("no identifiers given");
  for (const answer of answers) expect(answer).toEqual(first);
  expect([...first.emails].sort()).toEqual([...new Set(emails)].sort());
  expect([...first.phoneNumbers].sort()).toEqual([...new Set(phones)].sort());
  return first;
}

describe("concurrent requests", () => {
  it("50 callers sending the same new email at once create one primary and one row", async () => {
    const email = `${unique("same")}@x.io`;
    const answers = await fireAtOnce(Array.from({ length: 50 }, () => ({ email })));
    const rows = await storedRows("email = ?", email);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ linkPrecedence: "primary", linkedId: null });
    for (const answer of answers) {
      expect(answer).toEqual({
        primaryContactId: rows[0]?.id,
        emails: [email],
        phoneNumbers: [],
        secondaryContactIds: [],
      });
    }
    await expectOneCluster([email], []);
  });

  it("callers creating the same new phone through different objects end in one cluster", async () => {
    const phone = `+1${String(Date.now()).slice(-9)}`;
    const emails = Array.from({ length: 25 }, () => `${unique("via")}@x.io`);
    await fireAtOnce(emails.map((email) => ({ email, phoneNumber: phone })));
    const rows = await storedRows("phoneNumber = ?", phone);
    expect(rows).toHaveLength(25);
    expect(rows.filter((r) => r.linkPrecedence === "primary")).toHaveLength(1);
    const cluster = await expectOneCluster(emails, [phone]);
    expect(cluster.secondaryContactIds).toHaveLength(24);
  });

  it("bridges fired from both ends of a chain at once give one cluster under the oldest primary", async () => {
    const size = 8;
    const emails = Array.from({ length: size }, () => `${unique("chain")}@x.io`);
    const phones = Array.from({ length: size }, (_, i) => `55${String(Date.now()).slice(-6)}${i}`);
    const primaries: number[] = [];
    for (let i = 0; i < size; i++) {
      primaries.push((await identify({ email: emails[i], phoneNumber: phones[i] })).primaryContactId);
      // A secondary in each cluster, so merges must re-point, not only demote.
      await identify({ email: `${emails[i]}.alt`, phoneNumber: phones[i] });
    }
    const bridges = Array.from({ length: size - 1 }, (_, i) => ({ email: emails[i], phoneNumber: phones[i + 1] }));
    // From the front, from the back, and every bridge twice.
    await fireAtOnce([...bridges, ...[...bridges].reverse()]);

    const cluster = await expectOneCluster([...emails, ...emails.map((e) => `${e}.alt`)], phones);
    expect(cluster.primaryContactId).toBe(primaries[0]);
    const rows = await clusterRows(cluster.primaryContactId);
    expect(rows).toHaveLength(size * 2);
    for (const row of rows.filter((r) => r.id !== primaries[0])) {
      expect(row).toMatchObject({ linkPrecedence: "secondary", linkedId: primaries[0] });
    }
  });

  it("new identifiers racing a merge of their cluster are all kept, in the merged cluster", async () => {
    const [a, b] = [`${unique("older")}@x.io`, `${unique("younger")}@x.io`];
    const [phoneA, phoneB] = ["6100000001", "6100000002"];
    const older = await identify({ email: a, phoneNumber: phoneA });
    await identify({ email: b, phoneNumber: phoneB });
    const newEmails = Array.from({ length: 30 }, () => `${unique("new")}@x.io`);
    await fireAtOnce([
      { email: a, phoneNumber: phoneB },
      ...newEmails.map((email, i) => ({ email, phoneNumber: i % 2 === 0 ? phoneB : phoneA })),
      { email: b, phoneNumber: phoneA },
    ]);
    const cluster = await expectOneCluster([a, b, ...newEmails], [phoneA, phoneB]);
    expect(cluster.primaryContactId).toBe(older.primaryContactId);
    expect(await storedRows("email IN (SELECT value FROM json_each(?))", JSON.stringify(newEmails))).toHaveLength(30);
  });

  it("random traffic over a small set of identifiers keeps every invariant", async () => {
    const tag = unique("rnd");
    const emails = Array.from({ length: 8 }, (_, i) => `${tag}-${i}@x.io`);
    const phones = Array.from({ length: 8 }, (_, i) => `77${tag.length}${i}${String(Date.now()).slice(-5)}`);
    let seed = 42;
    const pick = <T>(items: T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return items[seed % items.length] as T;
    };
    const bodies = Array.from({ length: 80 }, () => {
      const shape = pick([0, 1, 2, 2]);
      return shape === 0
        ? { email: pick(emails) }
        : shape === 1
          ? { phoneNumber: pick(phones) }
          : { email: pick(emails), phoneNumber: pick(phones) };
    });
    await fireAtOnce(bodies);
    await expectInvariants();
    // Every identifier sent is stored and answers with a cluster that contains it.
    for (const email of new Set(bodies.flatMap((b) => ("email" in b && b.email ? [b.email] : [])))) {
      expect((await identify({ email })).emails).toContain(email);
    }
    for (const phoneNumber of new Set(
      bodies.flatMap((b) => ("phoneNumber" in b && b.phoneNumber ? [b.phoneNumber] : [])),
    )) {
      expect((await identify({ phoneNumber })).phoneNumbers).toContain(phoneNumber);
    }
  });
});

describe("new customers sharing a warm object", () => {
  it("each get their own cluster, never the one another customer's call just committed there", async () => {
    const emails = emailsOfOneObject(24);
    const phones = emails.map((_, i) => `+4470${String(Date.now()).slice(-6)}${String(i).padStart(2, "0")}`);
    const answers = await fireAtOnce(emails.map((email, i) => ({ email, phoneNumber: phones[i] })));
    answers.forEach((answer, i) => {
      expect(answer).toEqual({
        primaryContactId: expect.any(Number),
        emails: [emails[i]],
        phoneNumbers: [phones[i]],
        secondaryContactIds: [],
      });
    });
    expect(new Set(answers.map((a) => a.primaryContactId)).size).toBe(emails.length);
    const rows = await storedRows("email IN (SELECT value FROM json_each(?))", JSON.stringify(emails));
    expect(rows).toHaveLength(emails.length);
    for (const row of rows) expect(row).toMatchObject({ linkPrecedence: "primary", linkedId: null });
    await expectInvariants();
  });

  it("callers repeating one of them, queued behind the others, are answered with their own contact", async () => {
    const emails = emailsOfOneObject(6);
    // Every email three times, interleaved: each call waits behind commits of the others.
    const bodies = [0, 1, 2].flatMap(() => emails.map((email) => ({ email })));
    const answers = await fireAtOnce(bodies);
    answers.forEach((answer, i) => {
      expect(answer.emails).toEqual([bodies[i]?.email]);
    });
    for (const email of emails) expect(await storedRows("email = ?", email)).toHaveLength(1);
    await expectInvariants();
  });
});

describe("big clusters", () => {
  // Cluster limits far above the 301 emails below: big merges still work when allowed.
  const roomy = { MAX_EMAILS_PER_CLUSTER: "1000", MAX_PHONES_PER_CLUSTER: "1000" };
  const identify = async (body: unknown): Promise<IdentifyResponse> => {
    const res = await callWith(roomy, "/identify", { method: "POST", body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return res.json<IdentifyResponse>();
  };

  it("merges a cluster of 300 contacts into another and answers for all of it", async () => {
    const tag = unique("big");
    const older = await identify({ email: `${tag}-older@x.io`, phoneNumber: "8100000001" });
    const big = await identify({ email: `${tag}-0@x.io`, phoneNumber: "8100000002" });
    // 299 more contacts in the younger cluster, loaded in one statement.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 299)
       INSERT INTO contacts (email, phoneNumber, linkPrecedence, linkedId, createdAt, updatedAt)
       SELECT ?1 || '-' || i || '@x.io', '8100000002', 'secondary', ?2,
              strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || i || ' seconds'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         FROM n`,
    )
      .bind(tag, big.primaryContactId)
      .run();
    expect((await identify({ phoneNumber: "8100000002" })).secondaryContactIds).toHaveLength(299);

    const merged = await identify({ email: `${tag}-older@x.io`, phoneNumber: "8100000002" });
    expect(merged.primaryContactId).toBe(older.primaryContactId);
    expect(merged.secondaryContactIds).toHaveLength(300);
    expect(merged.emails).toHaveLength(301);
    expect(merged.emails.slice(0, 3)).toEqual([`${tag}-older@x.io`, `${tag}-0@x.io`, `${tag}-1@x.io`]);
    expect(merged.phoneNumbers).toEqual(["8100000001", "8100000002"]);

    const rows = await clusterRows(older.primaryContactId);
    expect(rows).toHaveLength(301);
    expect(rows.filter((r) => r.linkedId !== older.primaryContactId).map((r) => r.id)).toEqual([
      older.primaryContactId,
    ]);
    expect(await identify({ email: `${tag}-150@x.io` })).toEqual(merged);
    await expectInvariants();
  });
});

describe("a failure between the read and the write", () => {
  it("leaves no partial write, answers 503, and the same request succeeds afterwards", async () => {
    const [a, b] = [`${unique("fa")}@x.io`, `${unique("fb")}@x.io`];
    await identify({ email: a, phoneNumber: "9100000001" });
    await identify({ email: b, phoneNumber: "9100000002" });
    await identify({ email: `2.${b}`, phoneNumber: "9100000002" });
    const before = await storedRows();

    // The write batch runs its statements (demote, re-point, insert) and then fails:
    // D1 must roll all of them back.
    const batch = d1Sessions.batch;
    let injected = 0;
    const spy = vi.spyOn(d1Sessions, "batch").mockImplementation(function (this: D1DatabaseSession, statements) {
      injected += 1;
      return batch.call(this, [...statements, this.prepare("SELECT json_extract('{}', 'injected fault')")]);
    });
    try {
      const res = await postIdentify({ email: `${unique("fnew")}@x.io`, phoneNumber: "9100000002", extra: a });
      const bridge = await postIdentify({ email: a, phoneNumber: "9100000002" });
      expect(res.status).toBe(503);
      expect(bridge.status).toBe(503);
      expect(bridge.headers.get("retry-after")).toBeTruthy();
      expect(await bridge.json()).toMatchObject({ error: { code: "service_unavailable" } });
    } finally {
      spy.mockRestore();
    }
    expect(injected).toBeGreaterThanOrEqual(2);
    expect(await storedRows()).toEqual(before);
    await expectInvariants();

    const merged = await identify({ email: a, phoneNumber: "9100000002" });
    expect(merged.emails).toEqual([a, b, `2.${b}`]);
  });
});

describe("a cluster that changes under every attempt", () => {
  it("gives up after a bounded number of attempts with 503 and Retry-After, having written nothing", async () => {
    const email = `${unique("busy")}@x.io`;
    await identify({ email, phoneNumber: "9200000001" });
    const before = await storedRows();

    // Every write batch fails its guard, as if another object always committed first.
    const batch = d1Sessions.batch;
    let attempts = 0;
    const spy = vi.spyOn(d1Sessions, "batch").mockImplementation(function (this: D1DatabaseSession, statements) {
      attempts += 1;
      return batch.call(this, [this.prepare("SELECT json_extract('{}', 'cluster changed since read')"), ...statements]);
    });
    let res: Response;
    try {
      res = await postIdentify({ email: `${unique("late")}@x.io`, phoneNumber: "9200000001" });
    } finally {
      spy.mockRestore();
    }
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({ error: { code: "service_unavailable" } });
    expect(attempts).toBe(REQUEST_BUDGET.retries + 1);
    expect(await storedRows()).toEqual(before);
  });
});

describe("requests queued in one object", () => {
  it("plan on the object's latest commit instead of re-reading: no write takes a third round trip", async () => {
    const email = `${unique("queued")}@x.io`;
    await identify({ email, phoneNumber: "9300000001" });
    const newEmails = Array.from({ length: 20 }, () => `${unique("q")}@x.io`);
    const results = await Promise.all(
      newEmails.map((e) => identifyContact(env, { email: e, phoneNumber: "9300000001" }, "test-request", LIMITS)),
    );
    expect(results.map((r) => r.outcome)).toEqual(newEmails.map(() => "linked"));
    expect(results.map((r) => r.d1.roundTrips)).toEqual(newEmails.map(() => 2));
    await expectOneCluster([email, ...newEmails], ["9300000001"]);
  });

  it("answer callers that waited behind the commit that created their contact from it", async () => {
    const email = `${unique("herd")}@x.io`;
    const results = await Promise.all(
      Array.from({ length: 30 }, () => identifyContact(env, { email }, "test-request", LIMITS)),
    );
    expect(results.filter((r) => r.outcome === "created")).toHaveLength(1);
    for (const r of results.filter((r) => r.outcome !== "created")) {
      expect([r.outcome, r.d1.roundTrips]).toEqual(["unchanged", 1]);
    }
    expect(await storedRows("email = ?", email)).toHaveLength(1);
  });
});

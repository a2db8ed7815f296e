import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { readTouchedClusters } from "../../src/db/reads";
import type { Identifiers } from "../../src/domain/contact";
import type { ClusterLimits } from "../../src/domain/limits";
import type { ReconcileCall, ReconcileResult } from "../../src/durable/reconciler";
import { newBudget } from "../../src/durable/retry";
import { newContactObjects, ownerKey } from "../../src/durable/routing";
import { OBJECT_QUEUE } from "../../src/durable/write-queue";
import {
  d1Sessions,
  emailsOfOneObject,
  expectInvariants,
  identify,
  LIMITS,
  postIdentify,
  storedRows,
  unique,
} from "../helpers";

// Calls that wait in an object while it commits are planned together, in order, and
// committed in one batch. Here the object is called directly (as the Worker does, with
// the rows it read), so that the calls reach it in a known order: in a group, and again
// one at a time on a twin set of identifiers, and the two runs must answer alike.

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The call the Worker would make for `who`: its rows as read now, and their owner. */
async function callFor(who: Identifiers, limits: ClusterLimits = LIMITS): Promise<ReconcileCall> {
  const rows = await readTouchedClusters(database(env.DB), who, limits);
  const key = ownerKey(rows, who, newContactObjects(env));
  return { key, who, rows, requestId: "test-group", budget: newBudget(), limits };
}

/** Sends `call` to its object, following hand-offs to the object a cluster now belongs to. */
async function send(call: ReconcileCall): Promise<ReconcileResult> {
  const result = await env.RECONCILER.getByName(call.key).reconcile(call);
  return result.kind === "reroute" ? send({ ...call, key: result.ownerKey, rows: result.rows }) : result;
}

let phones = 0;
/** Digits unique to this test file's run, to prefix a run's phones with. */
const digits = () => `${Date.now() % 1e8}${String(++phones).padStart(3, "0")}`;

/** Every identifier of a run by its place in the run, so that two runs compare. */
type Names = (value: string) => string;

function namesOf(calls: Identifiers[]): Names {
  const names = new Map<string, string>();
  for (const who of calls) {
    for (const value of [who.email, who.phoneNumber]) {
      if (value !== undefined && !names.has(value)) names.set(value, `#${names.size}`);
    }
  }
  return (value) => names.get(value) ?? value;
}

/** A result with the run's own identifiers and ids taken out. */
function normalised(result: ReconcileResult, strip: Names) {
  if (result.kind !== "done") return { kind: result.kind };
  return {
    outcome: result.outcome,
    emails: result.response.emails.map(strip),
    phoneNumbers: result.response.phoneNumbers.map(strip),
    secondaries: result.response.secondaryContactIds.length,
  };
}

/** The stored rows of `emails`' clusters, with the run's identifiers and ids taken out. */
async function normalisedRows(emails: string[], name: Names) {
  const rows = await storedRows(
    "coalesce(linkedId, id) IN (SELECT coalesce(linkedId, id) FROM contacts WHERE email IN (SELECT value FROM json_each(?)))",
    JSON.stringify(emails),
  );
  const strip = (value: string | null | undefined) => (value === null || value === undefined ? value : name(value));
  const emailOf = new Map(rows.map((row) => [row.id, row.email ?? row.phoneNumber]));
  // As a set: calls handed on to another object may commit in another order.
  return rows
    .map((row) =>
      JSON.stringify({
        email: strip(row.email),
        phoneNumber: strip(row.phoneNumber),
        linkPrecedence: row.linkPrecedence,
        primary: row.linkedId === null ? null : strip(emailOf.get(row.linkedId)),
      }),
    )
    .sort();
}

/** The outcomes (or kinds of failure) of normalised answers, space-separated. */
function outcomes(answers: ReturnType<typeof normalised>[]): string {
  return answers.map((a) => ("outcome" in a ? a.outcome : a.kind)).join(" ");
}

type Scenario = { setup: Identifiers[]; calls: Identifiers[]; emails: string[] };

/**
 * Runs `scenario(tag)` twice, on two tags: once with every call sent at once (they queue
 * behind the first and are committed together), once one call at a time. Returns both
 * runs' normalised answers and rows, and how many D1 batches each run took.
 */
async function groupedAndOneAtATime(scenario: (tag: string, phonePrefix: string) => Scenario) {
  const runs = [];
  for (const grouped of [true, false]) {
    const tag = unique(grouped ? "grp" : "one");
    const prefix = `+${digits()}`;
    const { setup, calls, emails } = scenario(tag, prefix);
    const names = namesOf([...setup, ...calls]);
    for (const who of setup) await identify(who);
    const prepared = await Promise.all(calls.map((who) => callFor(who)));
    const batch = vi.spyOn(d1Sessions, "batch");
    const results: ReconcileResult[] = [];
    if (grouped) results.push(...(await Promise.all(prepared.map(send))));
    else for (const call of prepared) results.push(await send(call));
    runs.push({
      answers: results.map((result) => normalised(result, names)),
      rows: await normalisedRows(emails, names),
      batches: batch.mock.calls.length,
    });
    batch.mockRestore();
  }
  await expectInvariants();
  const [grouped, oneAtATime] = runs;
  if (!grouped || !oneAtATime) throw new Error("two runs expected");
  return { grouped, oneAtATime };
}

describe("group commit", () => {
  it("links, a merge and repeats queued in one cluster's object answer as one at a time, in fewer batches", async () => {
    const { grouped, oneAtATime } = await groupedAndOneAtATime((tag, prefix) => {
      const e = (n: string) => `${tag}-${n}@x.io`;
      const pX = `${prefix}1`;
      const pY = `${prefix}2`;
      return {
        setup: [
          { email: e("x"), phoneNumber: pX },
          { email: e("y"), phoneNumber: pY },
        ],
        calls: [
          { email: e("1"), phoneNumber: pX },
          { email: e("2"), phoneNumber: pX },
          { email: e("x"), phoneNumber: pY }, // folds Y into X
          { email: e("1"), phoneNumber: pX }, // repeats a contact inserted just before
          { email: e("3"), phoneNumber: pX },
          { email: e("4"), phoneNumber: pX },
          { email: e("y"), phoneNumber: pX }, // bridges what is now one cluster
          { email: e("5"), phoneNumber: pX },
          ...Array.from({ length: 12 }, (_, i) => ({ email: e(`more${i}`), phoneNumber: pX })),
        ],
        emails: [e("x")],
      };
    });
    expect(outcomes(grouped.answers.slice(0, 8))).toEqual(
      "linked linked merged unchanged linked linked unchanged linked",
    );
    expect(grouped.answers).toEqual(oneAtATime.answers);
    expect(grouped.rows).toEqual(oneAtATime.rows);
    expect(grouped.rows).toHaveLength(2 + 5 + 12);
    // One at a time, each write is a batch (and calls planned on rows read before the
    // writes ahead of them were made fail a guard once, then re-read).
    expect(oneAtATime.batches).toBeGreaterThanOrEqual(5 + 1 + 12);
    expect(grouped.batches).toBeLessThan(oneAtATime.batches / 2);
  });

  it("new customers queued in one warm object answer as one at a time, each with their own cluster", async () => {
    const { grouped, oneAtATime } = await groupedAndOneAtATime((tag, prefix) => {
      const [a0, a1, a2, a3, ...more] = emailsOfOneObject(16, tag);
      const q = (n: number) => `${prefix}${String(n).padStart(2, "0")}`;
      const fresh = more.map((email, i) => ({ email, phoneNumber: q(10 + i) }));
      return {
        setup: [],
        calls: [
          { email: a0, phoneNumber: q(0) },
          { email: a1, phoneNumber: q(1) },
          { email: a2 },
          { email: a0, phoneNumber: q(3) }, // a new phone for a contact created just before
          { email: a3, phoneNumber: q(1) }, // another's phone: handed on to that cluster's object
          { email: a2 }, // repeats a contact created just before
          ...fresh,
        ],
        emails: [a0, a1, a2, a3, ...more].filter((email) => email !== undefined),
      };
    });
    expect(outcomes(grouped.answers.slice(0, 6))).toEqual("created created created linked linked unchanged");
    expect(grouped.answers).toEqual(oneAtATime.answers);
    expect(grouped.rows).toEqual(oneAtATime.rows);
    expect(grouped.batches).toBeLessThan(oneAtATime.batches / 2);
  });

  it("a guard abort in a group falls back to one call at a time, and every call still lands", async () => {
    const phone = `+${digits()}`;
    await identify({ email: `${unique("g0")}@x.io`, phoneNumber: phone });
    const emails = Array.from({ length: 10 }, () => `${unique("g")}@x.io`);
    const calls = await Promise.all(emails.map((email) => callFor({ email, phoneNumber: phone })));
    // The first group batch fails its guard, as if another object had committed first.
    const batch = d1Sessions.batch;
    let sizes: number[] = [];
    vi.spyOn(d1Sessions, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
      sizes.push(statements.length);
      if (sizes.length === 2) {
        const abort = this.prepare("SELECT json_extract('{}', 'cluster changed since read')");
        return batch.call(this, [abort, ...statements]);
      }
      return batch.call(this, statements);
    });
    const results = await Promise.all(calls.map(send));
    expect(results.map((r) => (r.kind === "done" ? r.outcome : r.kind))).toEqual(emails.map(() => "linked"));
    // The aborted batch was a group, then each call went alone: guard, insert, its event,
    // the events' index, read back.
    expect(sizes[1]).toBeGreaterThan(5);
    sizes = sizes.slice(2);
    expect(sizes).toEqual(sizes.map(() => 5));
    const stored = await storedRows("email IN (SELECT value FROM json_each(?))", JSON.stringify(emails));
    expect(stored).toHaveLength(10);
    await expectInvariants();
  });
});

describe("an object's queue", () => {
  it("answers 503 at once for a call still waiting at the queue's deadline, and writes nothing of it", async () => {
    const phone = `+${digits()}`;
    await identify({ email: `${unique("dl0")}@x.io`, phoneNumber: phone });
    const batch = d1Sessions.batch;
    let stalled = false;
    vi.spyOn(d1Sessions, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
      if (!stalled) {
        stalled = true;
        await sleep(OBJECT_QUEUE.maxWaitMs + 500);
      }
      return batch.call(this, statements);
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const holder = `${unique("dl1")}@x.io`;
    const slow = postIdentify({ email: holder, phoneNumber: phone });
    await sleep(100);
    const late = `${unique("dl2")}@x.io`;
    const started = Date.now();
    const res = await postIdentify({ email: late, phoneNumber: phone });
    const waited = Date.now() - started;
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(waited).toBeGreaterThanOrEqual(OBJECT_QUEUE.maxWaitMs - 100);
    expect(waited).toBeLessThan(OBJECT_QUEUE.maxWaitMs + 400);
    expect((await slow).status).toBe(200);
    expect(await storedRows("email = ?", late)).toEqual([]);
    expect(await storedRows("email = ?", holder)).toHaveLength(1);
  });

  it("refuses calls past its bound at once, writes nothing of them, and serves the rest", async () => {
    const phone = `+${digits()}`;
    await identify({ email: `${unique("bd0")}@x.io`, phoneNumber: phone });
    // Limits that let the cluster take every email sent: this is about the queue.
    const roomy = { emails: 1000, phones: 1000 };
    const first = await callFor({ email: `${unique("bd1")}@x.io`, phoneNumber: phone }, roomy);
    const emails = Array.from({ length: OBJECT_QUEUE.maxWaiting + 30 }, () => `${unique("bd")}@x.io`);
    const calls = await Promise.all(emails.map((email) => callFor({ email, phoneNumber: phone }, roomy)));
    const batch = d1Sessions.batch;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalled = false;
    vi.spyOn(d1Sessions, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
      if (!stalled) {
        stalled = true;
        await held;
      }
      return batch.call(this, statements);
    });
    const holding = send(first);
    await sleep(50);
    const pending = calls.map(send);
    // The calls past the bound are answered while the object is still held.
    const refused = await Promise.all(pending.slice(OBJECT_QUEUE.maxWaiting));
    expect(refused.map((r) => (r.kind === "busy" ? r.why : r.kind))).toEqual(emails.slice(-30).map(() => "full"));
    release();
    const served = await Promise.all(pending.slice(0, OBJECT_QUEUE.maxWaiting));
    expect((await holding).kind).toBe("done");
    const done = served.filter((r) => r.kind === "done");
    expect(done.length).toBeGreaterThan(0);
    for (const r of served) expect(r.kind === "done" || (r.kind === "busy" && r.why === "deadline")).toBe(true);
    const stored = await storedRows("email IN (SELECT value FROM json_each(?))", JSON.stringify(emails));
    expect(stored).toHaveLength(done.length);
    await expectInvariants();
  });
});

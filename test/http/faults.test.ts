import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { ClusterReconciler } from "../../src/durable/reconciler";
import { REQUEST_BUDGET } from "../../src/durable/retry";
import {
  callAsAdmin,
  countRows,
  d1Sessions,
  expectInvariants,
  identify,
  postIdentify,
  storedRows,
  unique,
} from "../helpers";

// Faults are injected into what the Worker and the Durable Object share (the D1
// sessions they send every statement through, `env.RECONCILER`): the first calls
// fail, later ones reach the real thing.

const transientD1 = () => new Error("D1_ERROR: Network connection lost.");
const retryableObject = () =>
  Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });

/** Every attempt a request may make: the first, and each retry of its budget. */
const ATTEMPTS = REQUEST_BUDGET.retries + 1;

/** The next write batch commits, but its answer is lost on the way back. */
function loseFirstBatchAnswer() {
  const batch = d1Sessions.batch;
  return vi.spyOn(d1Sessions, "batch").mockImplementationOnce(async function (this: D1DatabaseSession, statements) {
    await batch.call(this, statements);
    throw transientD1();
  });
}

let errors: MockInstance<typeof console.error>;
beforeEach(() => {
  // identifyContact reports the storage error on stderr; the tests look at answers and rows.
  errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Expects the 503 of docs/contract.md: JSON envelope, Retry-After, no stack. */
async function expectUnavailable(res: Response): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(JSON.parse(text)).toEqual({ error: { code: "service_unavailable", message: expect.any(String) } });
  expect(text).not.toMatch(/D1_ERROR|\bat .+:\d+|Error:/);
}

describe("transient faults are retried", () => {
  it("a D1 read that fails once: answered 200, written once", async () => {
    const spy = vi.spyOn(d1Sessions, "prepare").mockImplementationOnce(() => {
      throw transientD1();
    });
    const email = `${unique("readfault")}@x.io`;
    const res = await identify({ email, phoneNumber: "8300000001" });
    expect(res.emails).toEqual([email]);
    expect(spy.mock.calls.length).toBeGreaterThan(1);
    expect(await storedRows("email = ?", email)).toHaveLength(1);
  });

  it("a D1 write batch that fails once before committing: answered 200, written once", async () => {
    const spy = vi.spyOn(d1Sessions, "batch").mockRejectedValueOnce(transientD1());
    const email = `${unique("writefault")}@x.io`;
    const res = await identify({ email });
    expect(spy).toHaveBeenCalledTimes(2);
    expect(await storedRows("email = ?", email)).toEqual([
      expect.objectContaining({ id: res.primaryContactId, linkPrecedence: "primary" }),
    ]);
  });

  it("a D1 write batch that commits but loses its answer: answered 200 from a fresh read, not replayed", async () => {
    const spy = loseFirstBatchAnswer();
    const email = `${unique("lostanswer")}@x.io`;
    const res = await identify({ email, phoneNumber: "8300000002" });
    expect(res).toEqual({
      primaryContactId: expect.any(Number),
      emails: [email],
      phoneNumbers: ["8300000002"],
      secondaryContactIds: [],
    });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await storedRows("email = ?", email)).toEqual([expect.objectContaining({ id: res.primaryContactId })]);
    await expectInvariants();
  });

  it("a lost answer to a link into a cluster: the fresh read shows it done, answered with the whole cluster", async () => {
    const first = await identify({ email: `${unique("lostlink")}@x.io`, phoneNumber: "8300000012" });
    loseFirstBatchAnswer();
    const email = `${unique("lostlink2")}@x.io`;
    const res = await identify({ email, phoneNumber: "8300000012" });
    expect(res.primaryContactId).toBe(first.primaryContactId);
    expect(res.emails).toEqual([...first.emails, email]);
    expect(res.secondaryContactIds).toHaveLength(1);
    expect(await storedRows("email = ?", email)).toHaveLength(1);
    await expectInvariants();
  });

  it("an erasure batch that commits but loses its answer: 503, erased once, and a retry changes nothing", async () => {
    const email = `${unique("losterase")}@x.io`;
    const { primaryContactId } = await identify({ email, phoneNumber: "8300000003" });
    const batch = d1Sessions.batch;
    let lost = false;
    vi.spyOn(d1Sessions, "batch").mockImplementation(async function (this: D1DatabaseSession, statements) {
      const results = await batch.call(this, statements);
      // The erasure's commit (a guard and its writes), not the reads before it.
      if (!lost && statements.length > 2) {
        lost = true;
        throw transientD1();
      }
      return results;
    });
    const erase = () => callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ email }) });
    const res = await erase();
    expect(lost).toBe(true);
    await expectUnavailable(res);
    vi.mocked(d1Sessions.batch).mockRestore();
    expect(await storedRows("id = ?", primaryContactId)).toMatchObject([{ email: null, phoneNumber: "8300000003" }]);
    const events = await env.DB.prepare(
      "SELECT kind FROM contact_events WHERE primaryContactId = ? AND kind = 'erased'",
    )
      .bind(primaryContactId)
      .all();
    expect(events.results).toHaveLength(1);
    expect((await erase()).status).toBe(404);
    await expectInvariants();
  });

  it("a Durable Object call that fails once with a retryable error: answered 200", async () => {
    const getByName = env.RECONCILER.getByName.bind(env.RECONCILER);
    const spy = vi
      .spyOn(env.RECONCILER, "getByName")
      .mockImplementationOnce(
        () =>
          ({
            reconcile: () => Promise.reject(retryableObject()),
          }) as unknown as DurableObjectStub<ClusterReconciler>,
      )
      .mockImplementation(getByName);
    const email = `${unique("objfault")}@x.io`;
    expect((await identify({ email })).emails).toEqual([email]);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(await storedRows("email = ?", email)).toHaveLength(1);
  });
});

describe("faults that outlast the retries answer 503 with Retry-After and write nothing", () => {
  it("D1 reads failing every time", async () => {
    const before = await countRows();
    const spy = vi.spyOn(d1Sessions, "prepare").mockImplementation(() => {
      throw transientD1();
    });
    const email = `${unique("readdown")}@x.io`;
    await expectUnavailable(await postIdentify({ email }));
    expect(spy).toHaveBeenCalledTimes(ATTEMPTS);
    spy.mockRestore();
    expect(await countRows()).toBe(before);
  });

  it("D1 write batches failing every time: the request's one budget is spent, then 503", async () => {
    const spy = vi.spyOn(d1Sessions, "batch").mockImplementation(async () => {
      throw transientD1();
    });
    const before = await countRows();
    const email = `${unique("writedown")}@x.io`;
    const started = Date.now();
    await expectUnavailable(await postIdentify({ email, phoneNumber: "8300000003" }));
    // One layer retries: each attempt is one batch, however many layers the request crosses.
    expect(spy).toHaveBeenCalledTimes(ATTEMPTS);
    expect(Date.now() - started).toBeLessThan(REQUEST_BUDGET.ms + 1_000);
    spy.mockRestore();
    expect(await countRows()).toBe(before);
    expect(await storedRows("email = ?", email)).toEqual([]);
  });

  it("a Durable Object that keeps failing", async () => {
    const spy = vi
      .spyOn(env.RECONCILER, "getByName")
      .mockImplementation(
        () =>
          ({ reconcile: () => Promise.reject(retryableObject()) }) as unknown as DurableObjectStub<ClusterReconciler>,
      );
    const before = await countRows();
    const email = `${unique("objdown")}@x.io`;
    await expectUnavailable(await postIdentify({ email }));
    expect(spy).toHaveBeenCalledTimes(ATTEMPTS);
    spy.mockRestore();
    expect(await countRows()).toBe(before);
  });

  it("errors that a retry cannot cure are not retried", async () => {
    const overloaded = Object.assign(new Error("Durable Object is overloaded."), { retryable: true, overloaded: true });
    const objects = vi
      .spyOn(env.RECONCILER, "getByName")
      .mockImplementation(
        () => ({ reconcile: () => Promise.reject(overloaded) }) as unknown as DurableObjectStub<ClusterReconciler>,
      );
    await expectUnavailable(await postIdentify({ email: `${unique("overloaded")}@x.io` }));
    expect(objects).toHaveBeenCalledTimes(1);
    objects.mockRestore();

    const reads = vi.spyOn(d1Sessions, "prepare").mockImplementation(() => {
      throw new Error("D1_ERROR: no such table: contacts: SQLITE_ERROR");
    });
    await expectUnavailable(await postIdentify({ email: `${unique("broken")}@x.io` }));
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it("an overloaded D1 is not retried: 503 at once, nothing written", async () => {
    const batch = vi.spyOn(d1Sessions, "batch").mockImplementation(async () => {
      throw new Error("D1_ERROR: D1 DB is overloaded. Too many requests queued.");
    });
    const before = await countRows();
    await expectUnavailable(await postIdentify({ email: `${unique("d1busy")}@x.io`, phoneNumber: "8300000004" }));
    expect(batch).toHaveBeenCalledTimes(1);
    batch.mockRestore();
    expect(await countRows()).toBe(before);
  });

  it("and the service answers normally once storage is back", async () => {
    const email = `${unique("back")}@x.io`;
    expect((await identify({ email })).emails).toEqual([email]);
  });
});

describe("storage errors in the logs", () => {
  it("never quote the caller's email or phone, though drizzle's messages carry the query's parameters", async () => {
    const email = `${unique("secret")}@x.io`;
    const phone = "8300000099";

    // In this Worker: the read, failing when D1 runs it, so that drizzle wraps the error.
    const prepare = d1Sessions.prepare;
    const reads = vi.spyOn(d1Sessions, "prepare").mockImplementation(function (this: D1DatabaseSession) {
      return prepare.call(this, "SELECT * FROM missing_table");
    });
    await expectUnavailable(await postIdentify({ email, phoneNumber: phone }));
    reads.mockRestore();

    // In the Durable Object: the write batch, whose error crosses the RPC boundary.
    vi.spyOn(d1Sessions, "batch").mockImplementation(async () => {
      throw new Error("D1_ERROR: no such table: contacts: SQLITE_ERROR");
    });
    await expectUnavailable(await postIdentify({ email, phoneNumber: phone }));

    expect(errors).toHaveBeenCalled();
    const logged = errors.mock.calls.flat().map(String).join("\n");
    expect(logged).not.toContain(email);
    expect(logged).not.toContain(phone);
    // What is logged is still what went wrong.
    expect(logged).toContain("no such table: missing_table");
    expect(logged).toContain("no such table: contacts");
  });
});

describe("anything unexpected", () => {
  it("answers a JSON 500 with no stack or message of its own, and logs it redacted", async () => {
    const email = `${unique("boom")}@x.io`;
    // The answer to a successful reconciliation cannot be built: a bug, not a storage fault.
    vi.spyOn(Response, "json").mockImplementationOnce(() => {
      throw new TypeError(`cannot serialise ${email} at /srv/app.ts:12:3`);
    });
    const log = vi.spyOn(console, "log");
    const res = await postIdentify({ email });
    const text = await res.text();
    expect(res.status, text).toBe(500);
    expect(JSON.parse(text)).toEqual({ error: { code: "internal_error", message: expect.any(String) } });
    expect(text).not.toMatch(/TypeError|app\.ts|serialise/);

    const line = log.mock.calls.map(([entry]) => String(entry)).find((entry) => entry.includes('"status":500'));
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      outcome: "internal_error",
      detail: expect.stringContaining("TypeError"),
    });
    expect(line).not.toContain(email);
  });
});

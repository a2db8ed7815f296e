import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { identifyContact } from "../../src/usecases/identify";
import { LIMITS, unique } from "../helpers";

// The D1 work each kind of request costs. In production every round trip is a network
// hop, so these counts are the latency budget; unlike timings they do not depend on the
// machine, which is why they are guarded here and only reported by `npm run bench`.
// Sequential requests here; test/concurrency/races.test.ts shows that calls queued in one
// object cost no more, and only a real conflict with another object adds a retry.

let phones = 0;
/** A phone no other test file sends (storage is per file; the clock separates reruns). */
const newPhone = () => `+7${Date.now() % 1e9}${String(++phones).padStart(4, "0")}`;

describe("D1 round trips and statements per request kind", () => {
  // A write batch: guard, writes, the event, the event index, read back (src/db/commit.ts);
  // a new contact's insert returns it, so its batch needs no read back.
  it("a new contact: one read in the Worker, one batch in the object", async () => {
    const result = await identifyContact(
      env,
      { email: `${unique("new")}@rt.test`, phoneNumber: newPhone() },
      "test-request",
      LIMITS,
    );
    expect(result.outcome).toBe("created");
    expect(result.objectCalls).toBe(1);
    expect(result.d1).toEqual({ roundTrips: 2, statements: 5 });
  });

  it("a repeat of known identifiers: one read, nothing else", async () => {
    const email = `${unique("repeat")}@rt.test`;
    const phoneNumber = newPhone();
    await identifyContact(env, { email, phoneNumber }, "test-request", LIMITS);
    for (const who of [{ email, phoneNumber }, { email }, { phoneNumber }]) {
      const result = await identifyContact(env, who, "test-request", LIMITS);
      expect(result.outcome).toBe("unchanged");
      expect(result.objectCalls).toBe(0);
      expect(result.d1).toEqual({ roundTrips: 1, statements: 1 });
    }
  });

  it("a link (new email for a known phone): one read, one batch", async () => {
    const phoneNumber = newPhone();
    await identifyContact(env, { email: `${unique("first")}@rt.test`, phoneNumber }, "test-request", LIMITS);
    const result = await identifyContact(
      env,
      { email: `${unique("second")}@rt.test`, phoneNumber },
      "test-request",
      LIMITS,
    );
    expect(result.outcome).toBe("linked");
    expect(result.objectCalls).toBe(1);
    expect(result.d1).toEqual({ roundTrips: 2, statements: 6 });
  });

  it("a merge of two clusters: one read, one batch, whatever the clusters' sizes", async () => {
    const a = { email: `${unique("a")}@rt.test`, phoneNumber: newPhone() };
    const b = { email: `${unique("b")}@rt.test`, phoneNumber: newPhone() };
    await identifyContact(env, a, "test-request", LIMITS);
    await identifyContact(env, b, "test-request", LIMITS);
    // Grow the younger cluster: re-linking its members must stay one set-based statement.
    for (let i = 0; i < 5; i++)
      await identifyContact(
        env,
        { email: `${unique("b-more")}@rt.test`, phoneNumber: b.phoneNumber },
        "test-request",
        LIMITS,
      );
    const result = await identifyContact(env, { email: a.email, phoneNumber: b.phoneNumber }, "test-request", LIMITS);
    expect(result.outcome).toBe("merged");
    expect(result.answer.secondaryContactIds).toHaveLength(6);
    expect(result.objectCalls).toBe(1);
    // Both values known: the re-pointing, the bridge and the `merged` event, in the same batch.
    expect(result.d1).toEqual({ roundTrips: 2, statements: 7 });
  });

  it("a merge refused by a separation: the one read, which brought the separation, and nothing else", async () => {
    const a = await identifyContact(env, { email: `${unique("sa")}@rt.test`, phoneNumber: newPhone() }, "t", LIMITS);
    const b = { email: `${unique("sb")}@rt.test`, phoneNumber: newPhone() };
    const other = await identifyContact(env, b, "test-request", LIMITS);
    const [low, high] = [a.answer.primaryContactId, other.answer.primaryContactId];
    await env.DB.prepare(
      "INSERT INTO contact_separations (lowContactId, highContactId, requestId) VALUES (?1, ?2, 't')",
    )
      .bind(low, high)
      .run();
    const result = await identifyContact(env, { email: a.answer.emails[0], phoneNumber: b.phoneNumber }, "t", LIMITS);
    expect(result.outcome).toBe("unchanged");
    expect(result.ignored).toEqual([{ field: "phoneNumber", reason: "separated" }]);
    expect(result.objectCalls).toBe(0);
    expect(result.d1).toEqual({ roundTrips: 1, statements: 1 });
  });
});

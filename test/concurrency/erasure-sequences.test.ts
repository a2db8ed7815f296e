import { describe, expect, it } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import { callAsAdmin, expectInvariants, postIdentify, storedRows, unique } from "../helpers";

// Random mixes of /identify, POST /erase and DELETE /contacts/{id} over a few identifiers,
// one at a time and all at once: after each, every invariant holds (what `npm run db:check`
// checks), and an erased value is stored nowhere unless a later request sent it again.

/** A small deterministic generator, so that a failure can be replayed. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  return <T>(items: readonly T[]): T => items[next() % items.length] as T;
}

type Op =
  | { kind: "identify"; body: { email?: string; phoneNumber?: string } }
  | { kind: "erase"; body: { email?: string; phoneNumber?: string } }
  | { kind: "delete"; value: { email?: string; phoneNumber?: string } };

function operations(seed: number, count: number): Op[] {
  const pick = generator(seed);
  const tag = unique("seq");
  const emails = Array.from({ length: 6 }, (_, i) => `${tag}-${i}@x.io`);
  const phones = Array.from(
    { length: 6 },
    (_, i) => `+9${String(seed).slice(-3)}${tag.length}${i}${String(Date.now()).slice(-6)}`,
  );
  const body = () => {
    const shape = pick([0, 1, 2, 2, 2]);
    return shape === 0
      ? { email: pick(emails) }
      : shape === 1
        ? { phoneNumber: pick(phones) }
        : { email: pick(emails), phoneNumber: pick(phones) };
  };
  return Array.from({ length: count }, (): Op => {
    const kind = pick(["identify", "identify", "identify", "erase", "delete"] as const);
    return kind === "delete" ? { kind, value: body() } : { kind, body: body() };
  });
}

/** Runs one operation; returns the values it erased, if it erased something. */
async function run(op: Op): Promise<string[]> {
  if (op.kind === "identify") {
    const res = await postIdentify(op.body);
    expect([200, 503]).toContain(res.status);
    return [];
  }
  if (op.kind === "erase") {
    const res = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify(op.body) });
    expect([200, 404, 503]).toContain(res.status);
    return res.status === 200 ? Object.values(op.body) : [];
  }
  // Delete the cluster a value belongs to, found the way an operator would: a lookup.
  const found = await callAsAdmin("/lookup", { method: "POST", body: JSON.stringify(op.value) });
  if (found.status !== 200) return [];
  const { primaryContactId } = await found.json<IdentifyResponse>();
  const res = await callAsAdmin(`/contacts/${primaryContactId}`, { method: "DELETE" });
  expect([200, 404, 503]).toContain(res.status);
  return [];
}

describe("any sequence of erasures", () => {
  it.each([7, 11, 23])("one at a time (seed %i): invariants after every step, erased values gone", async (seed) => {
    for (const op of operations(seed, 40)) {
      const erased = await run(op);
      await expectInvariants();
      for (const value of erased) {
        expect(await storedRows("email = ?1 OR phoneNumber = ?1", value)).toEqual([]);
      }
    }
  });

  it.each([5, 13])("all at once (seed %i): invariants hold when everything has answered", async (seed) => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(operations(seed + round, 30).map(run));
      await expectInvariants();
    }
  });
});

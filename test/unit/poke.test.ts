import { describe, expect, it } from "vitest";
import { Poker, type RunDue } from "../../src/durable/poke";

describe("Poker", () => {
  it("keeps one call in flight, and covers the pokes made meanwhile with one more call", async () => {
    const releases: (() => void)[] = [];
    let calls = 0;
    const poker = new Poker(
      () => {
        calls += 1;
        return new Promise<number>((resolve) => releases.push(() => resolve(0)));
      },
      { at: 0 },
    );
    const first = poker.poke();
    for (let i = 0; i < 10; i++) void poker.poke();
    expect(calls).toBe(1);
    releases.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toBe(2);
    releases.shift()?.();
    await first;
    expect(calls).toBe(2);
    const next = poker.poke();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toBe(3);
    releases.shift()?.();
    await next;
  });

  it("spaces calls by the interval, and never drops the last poke", async () => {
    const at: number[] = [];
    const poker = new Poker(
      async () => {
        at.push(Date.now());
        return 0;
      },
      { at: 0 },
      100,
    );
    await poker.poke();
    const trailing = poker.poke();
    void poker.poke();
    await trailing;
    expect(at).toHaveLength(2);
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(99);
  });

  it("makes no call while the run the dispatcher announced is ahead, for any poker sharing it", async () => {
    let calls = 0;
    const due: RunDue = { at: 0 };
    const send = async () => {
      calls += 1;
      return Date.now() + 1000;
    };
    const one = new Poker(send, due);
    const other = new Poker(send, due);
    await one.poke();
    await other.poke();
    await one.poke();
    expect(calls).toBe(1);
    // Once that run is (nearly) due, commits poke again.
    due.at = Date.now() + 50;
    await other.poke();
    expect(calls).toBe(2);
  });

  it("never throws: a failed call is logged and the next poke calls again", async () => {
    let calls = 0;
    const poker = new Poker(
      async () => {
        calls += 1;
        throw new Error("dispatcher unreachable");
      },
      { at: 0 },
    );
    await expect(poker.poke()).resolves.toBeUndefined();
    await expect(poker.poke()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});

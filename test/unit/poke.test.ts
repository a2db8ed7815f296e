import { describe, expect, it } from "vitest";
import { Poker } from "../../src/durable/poke";

describe("Poker", () => {
  it("keeps one call in flight, and covers the pokes made meanwhile with one more call", async () => {
    const releases: (() => void)[] = [];
    let calls = 0;
    const poker = new Poker(() => {
      calls += 1;
      return new Promise<void>((resolve) => releases.push(resolve));
    });
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
    expect(calls).toBe(3);
    releases.shift()?.();
    await next;
  });

  it("never throws: a failed call is logged and the next poke calls again", async () => {
    let calls = 0;
    const poker = new Poker(async () => {
      calls += 1;
      throw new Error("dispatcher unreachable");
    });
    await expect(poker.poke()).resolves.toBeUndefined();
    await expect(poker.poke()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});

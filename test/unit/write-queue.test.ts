import { describe, expect, it } from "vitest";
import { type Refusal, WriteQueue } from "../../src/durable/write-queue";

type Answer = { call: number; group?: number; refused?: Refusal };

/** A queue whose groups are held until `release()`, recording what each group held. */
function heldQueue(limits: { maxWaiting: number; maxWaitMs: number }, answerPerGroup = Number.POSITIVE_INFINITY) {
  const groups: number[][] = [];
  let release: () => void = () => undefined;
  const queue = new WriteQueue<number, Answer>(
    async (calls) => {
      groups.push(calls);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return calls.slice(0, answerPerGroup).map((call) => ({ call, group: groups.length }));
    },
    (call, refused) => ({ call, refused }),
    limits,
  );
  return { queue, groups, release: () => release() };
}

const far = () => Date.now() + 60_000;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("WriteQueue", () => {
  it("hands calls that waited together to one group, in arrival order", async () => {
    const { queue, groups, release } = heldQueue({ maxWaiting: 10, maxWaitMs: 60_000 });
    const first = queue.run(1, far());
    const rest = [2, 3, 4].map((n) => queue.run(n, far()));
    await tick();
    release();
    expect(await first).toEqual({ call: 1, group: 1 });
    await tick();
    release();
    expect(await Promise.all(rest)).toEqual([2, 3, 4].map((call) => ({ call, group: 2 })));
    expect(groups).toEqual([[1], [2, 3, 4]]);
  });

  it("puts the calls a group did not answer back in front, in order", async () => {
    const { queue, groups, release } = heldQueue({ maxWaiting: 10, maxWaitMs: 60_000 }, 1);
    const answers = [1, 2, 3].map((n) => queue.run(n, far()));
    for (let i = 0; i < 3; i++) {
      await tick();
      release();
    }
    expect(await Promise.all(answers)).toEqual([1, 2, 3].map((call, i) => ({ call, group: i + 1 })));
    expect(groups).toEqual([[1], [2, 3], [3]]);
  });

  it("refuses a call at once when the bound is reached, without ever running it", async () => {
    const { queue, groups, release } = heldQueue({ maxWaiting: 2, maxWaitMs: 60_000 });
    const running = queue.run(1, far());
    await tick();
    const waiting = [queue.run(2, far()), queue.run(3, far())];
    expect(await queue.run(4, far())).toEqual({ call: 4, refused: "full" });
    release();
    await running;
    await tick();
    release();
    expect(await Promise.all(waiting)).toEqual([2, 3].map((call) => ({ call, group: 2 })));
    expect(groups.flat()).not.toContain(4);
  });

  it("answers a call still waiting at its deadline then, and never runs it", async () => {
    const { queue, groups, release } = heldQueue({ maxWaiting: 10, maxWaitMs: 50 });
    const running = queue.run(1, far());
    await tick();
    const started = Date.now();
    // The queue's own wait (50 ms) for one, the request's sooner deadline for the other.
    const late = queue.run(2, far());
    const sooner = queue.run(3, Date.now() + 20);
    expect(await sooner).toEqual({ call: 3, refused: "deadline" });
    expect(await late).toEqual({ call: 2, refused: "deadline" });
    expect(Date.now() - started).toBeLessThan(1_000);
    release();
    expect(await running).toEqual({ call: 1, group: 1 });
    await tick();
    expect(groups).toEqual([[1]]);
  });
});

/** How many calls may wait in one object, and for how long, before they are refused. */
export const OBJECT_QUEUE = {
  /** Calls waiting (not counting the group being written); one more is refused at once. */
  maxWaiting: 256,
  /** Longest wait before a call is answered busy, if its own request's deadline is not sooner. */
  maxWaitMs: 1_000,
} as const;

export type QueueLimits = { maxWaiting: number; maxWaitMs: number };

/** Why a call was not run, or not answered: full and deadline wrote nothing. */
export type Refusal = "full" | "deadline" | "crashed";

type Waiting<C, R> = {
  call: C;
  expiresAt: number;
  resolve: (result: R) => void;
  timer?: ReturnType<typeof setTimeout>;
};

/**
 * The calls waiting in one Durable Object, handed in arrival order to one drain loop a
 * group at a time. A Durable Object only blocks other calls during its own storage I/O;
 * awaiting D1 is network I/O, so without this two calls would interleave between their
 * read and their write.
 *
 * `process` gets every call waiting, in order, and answers a prefix of them (at least
 * one); the rest go back to the front of the queue, in order, for the next group. A call
 * that would exceed `maxWaiting` is refused at once; a call still waiting at its deadline
 * is refused then, and never run.
 */
export class WriteQueue<C, R> {
  private waiting: Waiting<C, R>[] = [];
  private draining = false;

  constructor(
    private readonly process: (calls: C[]) => Promise<R[]>,
    private readonly refuse: (call: C, why: Refusal) => R,
    private readonly limits: QueueLimits = OBJECT_QUEUE,
  ) {}

  /** Queues `call`; it is run, or refused, by `deadline` (epoch ms) at the latest. */
  run(call: C, deadline: number): Promise<R> {
    if (this.waiting.length >= this.limits.maxWaiting) return Promise.resolve(this.refuse(call, "full"));
    return new Promise<R>((resolve) => {
      const entry: Waiting<C, R> = { call, resolve, expiresAt: Math.min(deadline, Date.now() + this.limits.maxWaitMs) };
      this.wait(entry);
      this.waiting.push(entry);
      if (!this.draining) void this.drain();
    });
  }

  private wait(entry: Waiting<C, R>): void {
    entry.timer = setTimeout(
      () => {
        const index = this.waiting.indexOf(entry);
        if (index < 0) return;
        this.waiting.splice(index, 1);
        entry.resolve(this.refuse(entry.call, "deadline"));
      },
      Math.max(0, entry.expiresAt - Date.now()),
    );
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting;
        this.waiting = [];
        for (const entry of group) if (entry.timer !== undefined) clearTimeout(entry.timer);
        let answers: R[] = [];
        try {
          answers = await this.process(group.map((entry) => entry.call));
        } catch {
          // A bug, not a storage failure (those are answers): no caller may hang on it.
        }
        // `process` answers a prefix, at least one: answering none must not spin.
        const answered = Math.max(1, answers.length);
        group.slice(0, answered).forEach((entry, i) => {
          const answer = answers[i];
          entry.resolve(answer === undefined ? this.refuse(entry.call, "crashed") : answer);
        });
        const again = group.slice(answered);
        const now = Date.now();
        for (const entry of again) {
          if (entry.expiresAt <= now) entry.resolve(this.refuse(entry.call, "deadline"));
        }
        const live = again.filter((entry) => entry.expiresAt > now);
        for (const entry of live) this.wait(entry);
        this.waiting = [...live, ...this.waiting];
      }
    } finally {
      this.draining = false;
    }
  }
}

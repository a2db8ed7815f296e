/**
 * When the dispatcher said its next run is due (epoch ms). Shared by every writer object
 * of an isolate: a plain number, no I/O object, so one object's answer spares the others
 * their pokes until then.
 */
export type RunDue = { at: number };

/**
 * A commit made this long before the dispatcher's announced run still pokes: the run's
 * read must come after the commit, and the two objects' clocks may differ a little.
 */
const CLOCK_MARGIN_MS = 100;

/**
 * Pokes the dispatcher after commits: with at most one call in flight and calls at least
 * `minIntervalMs` apart, the commits made meanwhile covered by one more call after it; and
 * no call at all while a run the dispatcher announced (`due`) is still ahead, since that
 * run reads every event committed before it. No commit is left unannounced. Failures are
 * logged, never thrown: a lost poke only delays delivery until the dispatcher's own alarm.
 */
export class Poker {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private lastSent = Number.NEGATIVE_INFINITY;

  /** `send` answers when the dispatcher's next run is due. */
  constructor(
    private readonly send: () => Promise<number>,
    private readonly due: RunDue,
    private readonly minIntervalMs = 0,
  ) {}

  /** After a commit. The promise settles once no call is left to make. */
  poke(): Promise<void> {
    if (this.inFlight === undefined && Date.now() < this.due.at - CLOCK_MARGIN_MS) return Promise.resolve();
    this.again = true;
    this.inFlight ??= this.drain().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.again) {
      const wait = this.lastSent + this.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Pokes up to here are covered by this call; later ones ask for the next.
      this.again = false;
      this.lastSent = Date.now();
      try {
        this.due.at = await this.send();
      } catch (err) {
        console.log(JSON.stringify({ webhook: "poke_failed", error: String(err) }));
      }
    }
  }
}

/**
 * Sends `send` after commits with at most one call in flight: commits that land while one
 * is under way are covered by one more call after it, however many they are. Failures are
 * logged, never thrown: a lost poke only delays delivery until the dispatcher's own alarm.
 */
export class Poker {
  private inFlight: Promise<void> | undefined;
  private again = false;

  constructor(private readonly send: () => Promise<void>) {}

  /** Asks for one more call; the promise settles once no call is left to make. */
  poke(): Promise<void> {
    if (this.inFlight !== undefined) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.drain().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.send();
      } catch (err) {
        console.log(JSON.stringify({ webhook: "poke_failed", error: String(err) }));
      }
    } while (this.again);
  }
}

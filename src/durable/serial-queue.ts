/**
 * Runs tasks one at a time, in arrival order. A Durable Object only blocks other
 * calls during its own storage I/O; awaiting D1 is network I/O, so without this
 * two calls would interleave between their read and their write.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // A failed task must not stop the ones queued behind it.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

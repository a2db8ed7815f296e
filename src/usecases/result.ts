import { type Database, database } from "../db/client";
import { type D1Usage, meteredD1, noUsage } from "../db/metered";
import { readSession } from "../db/sessions";
import type { Ignored } from "../domain/blocking";
import type { Outcome } from "../domain/reconcile";
import { withRetries } from "../durable/retry";
import { unavailable } from "./owner-answers";

/**
 * What every use case answers, whatever it did: the route turns it into the Response and
 * the request log's line in one place (routes/respond.ts).
 */
export type UseCaseResult<T> = {
  /** The body of the 200; undefined when nothing stored matched (the route's 404). */
  answer: T | undefined;
  /** What a reconciliation did, for the log; other use cases leave it to the route's "ok". */
  outcome?: Outcome;
  /** D1 work of the whole request, in this Worker and in the objects it called. */
  d1: D1Usage;
  /** Durable Object calls made (0 for reads, and for a request that changed nothing). */
  objectCalls: number;
  /**
   * A D1 bookmark at or after everything this answer shows (an object's commit included):
   * a later read given it sees this request's write.
   */
  bookmark: string | null;
  /** Fields of the request the answer does not honour (the `Identity-Ignored` header). */
  ignored: readonly Ignored[];
};

/**
 * Runs one read of a read-only use case through a D1 session: on the nearest replica, or
 * on one at least as new as `bookmark`. Retries transient faults. No object is called.
 * @throws HttpError 503 when storage still fails after retries.
 */
export async function readOnly<T>(
  env: Env,
  bookmark: string | undefined,
  read: (db: Database) => Promise<{ answer: T | undefined; ignored?: readonly Ignored[] }>,
): Promise<UseCaseResult<T>> {
  const d1 = noUsage();
  try {
    const session = readSession(env.DB, bookmark);
    const { answer, ignored = [] } = await withRetries(() => read(database(meteredD1(session, d1))));
    return { answer, d1, objectCalls: 0, bookmark: session.getBookmark(), ignored };
  } catch (err) {
    throw unavailable(String(err), "storage read failed");
  }
}

import { type Database, database } from "../db/client";
import { type D1Usage, meteredD1, noUsage } from "../db/metered";
import { readSession } from "../db/sessions";
import type { Ignored } from "../domain/blocking";
import type { Outcome } from "../domain/reconcile";
import { type Budget, isTransient, newBudget, withRetries } from "../durable/retry";
import { fail } from "../errors";
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
 * Runs `read` through a D1 session: on the nearest replica, or on one at least as new as
 * `bookmark`; retries transient faults out of `budget`. Returns the session, whose bookmark
 * the answer carries.
 * D1 refuses a well-formed bookmark it did not issue (another database's, one from before a
 * restore); retrying with it would fail for ever. So a read that fails for good, and not
 * transiently, with a bookmark is run once more unanchored: if that succeeds, the bookmark was
 * the cause, and the caller is told to drop it. (Local D1 accepts and ignores any bookmark.)
 * @throws HttpError 400 `invalid_bookmark` for a bookmark D1 refused; 503 when storage fails.
 */
export async function anchoredRead<T>(
  env: Env,
  bookmark: string | undefined,
  read: (session: D1DatabaseSession) => Promise<T>,
  { budget = newBudget(), failure = "storage read failed" }: { budget?: Budget; failure?: string } = {},
): Promise<{ value: T; session: D1DatabaseSession }> {
  const session = readSession(env.DB, bookmark);
  try {
    return { value: await withRetries(() => read(session), budget), session };
  } catch (err) {
    if (bookmark !== undefined && !isTransient(err) && (await succeeds(() => read(readSession(env.DB, undefined))))) {
      console.error(
        JSON.stringify({ level: "warn", message: "D1 refused the request's bookmark", error: String(err) }),
      );
      throw fail("invalid_bookmark");
    }
    throw unavailable(String(err), failure);
  }
}

async function succeeds(operation: () => Promise<unknown>): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one read of a read-only use case through a D1 session (anchoredRead). No object is called.
 * @throws HttpError 400 `invalid_bookmark` for a bookmark D1 refused; 503 when storage still fails after retries.
 */
export async function readOnly<T>(
  env: Env,
  bookmark: string | undefined,
  read: (db: Database) => Promise<{ answer: T | undefined; ignored?: readonly Ignored[] }>,
): Promise<UseCaseResult<T>> {
  const d1 = noUsage();
  const { value, session } = await anchoredRead(env, bookmark, (anchored) => read(database(meteredD1(anchored, d1))));
  const { answer, ignored = [] } = value;
  return { answer, d1, objectCalls: 0, bookmark: session.getBookmark(), ignored };
}

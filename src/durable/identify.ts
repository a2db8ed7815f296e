import { addUsage, type D1Usage, meteredD1, noUsage } from "../db/metered";
import { database, readTouchedClusters } from "../db/queries";
import { laterBookmark, readSession } from "../db/sessions";
import type { Identifiers, IdentifyResponse } from "../domain/contact";
import { buildIdentifyResponse, isReadOnly, type Outcome, planReconciliation } from "../domain/reconcile";
import { serviceUnavailable } from "../errors";
import { reconcilerStub } from "./placement";
import { withRetries } from "./retry";
import { newContactObjects, ownerKey } from "./routing";

/** A storage failure the object reported as its result, raised again in this Worker. */
export class ObjectStorageError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "ObjectStorageError";
  }
}

/** Objects a request may be handed on to as clusters merge under it, before a 503. */
export const MAX_HOPS = 8;

export type Identified = {
  outcome: Outcome;
  response: IdentifyResponse;
  /** D1 work of the whole request, in this Worker and in the objects it called. */
  d1: D1Usage;
  /** Durable Object calls made (0 when the request changed nothing). */
  objectCalls: number;
  /**
   * A D1 bookmark at or after everything this answer shows (the object's commit
   * included): a later read given it sees this request's write.
   */
  bookmark: string | null;
};

/**
 * Identifies a caller's contact. Reads the touched clusters once; a request that
 * changes nothing is answered from that read, anything else goes to the
 * ClusterReconciler owning the cluster, following it as merges move ownership.
 * The read goes through a D1 session: on the nearest replica, or on one at least as
 * new as `bookmark` (from an earlier answer). The objects write on the primary, and
 * the guard of each write re-checks there what a possibly stale read planned.
 * `requestId` goes with the events the write records.
 * @throws HttpError 503 when storage or coordination still fails after retries.
 */
export async function identifyContact(
  env: Env,
  who: Identifiers,
  requestId: string,
  bookmark?: string,
): Promise<Identified> {
  let d1 = noUsage();
  let objectCalls = 0;
  try {
    const session = readSession(env.DB, bookmark);
    let rows = await withRetries(() => readTouchedClusters(database(meteredD1(session, d1)), who));
    const plan = planReconciliation(rows, who);
    if (isReadOnly(plan)) {
      return {
        outcome: plan.outcome,
        response: buildIdentifyResponse(rows),
        d1,
        objectCalls,
        bookmark: session.getBookmark(),
      };
    }

    let key = ownerKey(rows, who, newContactObjects(env));
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const owner = key;
      const snapshot = rows;
      objectCalls += 1;
      const result = await withRetries(async () => {
        const answer = await reconcilerStub(env, owner).reconcile(owner, who, snapshot, requestId);
        d1 = addUsage(d1, answer.d1);
        if (answer.kind === "failed") throw new ObjectStorageError(answer.message, answer.transient);
        return answer;
      });
      if (result.kind === "done") {
        return {
          outcome: result.outcome,
          response: result.response,
          d1,
          objectCalls,
          bookmark: laterBookmark(session.getBookmark(), result.bookmark),
        };
      }
      if (result.kind === "contended") break;
      key = result.ownerKey;
      rows = result.rows;
    }
  } catch (err) {
    // src/db has already replaced drizzle's wrapper (which quotes the caller's email and
    // phone) with D1's own error, so the message is safe to log.
    console.error(JSON.stringify({ level: "error", message: "storage or coordination failed", error: String(err) }));
    throw serviceUnavailable("Storage is unavailable right now; retry shortly.");
  }
  throw serviceUnavailable("The contact is being changed by many requests at once; retry shortly.");
}

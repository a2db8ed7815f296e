import { database } from "../db/client";
import { addUsage, meteredD1, noUsage } from "../db/metered";
import { readTouched } from "../db/reads";
import { laterBookmark } from "../db/sessions";
import type { ContactRow, Identifiers, IdentifyResponse } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import { buildIdentifyResponse, clusterOf, isReadOnly, type Outcome, planReconciliation } from "../domain/reconcile";
import { reconcilerStub } from "../durable/placement";
import type { ReconcileResult } from "../durable/reconciler";
import { newBudget } from "../durable/retry";
import { newContactObjects, ownerKey } from "../durable/routing";
import { nextOwner, retryThrownCall } from "./owner-answers";
import { anchoredRead, type UseCaseResult } from "./result";

/** How a failed identification is logged. */
const FAILURE = "storage or coordination failed";

/**
 * An identification always answers a cluster, and says what it did. `ignored`: the fields
 * the cluster limits left out (a new identifier, or the phone of a refused merge).
 */
export type Identified = UseCaseResult<IdentifyResponse> & { answer: IdentifyResponse; outcome: Outcome };

/**
 * Identifies a caller's contact. Reads the touched clusters once; a request that
 * changes nothing is answered from that read, anything else goes to the
 * ClusterReconciler owning the cluster, following it as merges move ownership.
 * The read goes through a D1 session: on the nearest replica, or on one at least as
 * new as `bookmark` (from an earlier answer). The objects write on the primary, and
 * the guard of each write re-checks there what a possibly stale read planned.
 * `requestId` goes with the events the write records. `limits` bound what is read,
 * stored and answered (see planReconciliation); a request that could only grow a cluster
 * over them is answered from the read, without calling an object.
 * This is the one layer that retries: every retry, re-plan and hand-off of the request,
 * here or in the objects, comes out of one budget (REQUEST_BUDGET in retry.ts).
 * @throws HttpError 503 when storage or coordination still fails within the budget,
 *   or the object is too busy (then nothing was written); 400 for a bookmark D1 refused.
 */
export async function identifyContact(
  env: Env,
  who: Identifiers,
  requestId: string,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<Identified> {
  let d1 = noUsage();
  let objectCalls = 0;
  const budget = newBudget();
  const { value: read, session } = await anchoredRead(
    env,
    bookmark,
    (anchored) => readTouched(database(meteredD1(anchored, d1)), who, limits),
    { budget, failure: FAILURE },
  );
  let rows: ContactRow[] = read.rows;
  const { separations } = read;
  const plan = planReconciliation(rows, who, limits, separations);
  if (isReadOnly(plan)) {
    const answer = buildIdentifyResponse(clusterOf(rows, plan.answerRoot), limits);
    return { outcome: plan.outcome, answer, ignored: plan.ignored, d1, objectCalls, bookmark: session.getBookmark() };
  }

  let key = ownerKey(rows, who, newContactObjects(env));
  for (let retry = 1; ; retry++) {
    objectCalls += 1;
    // Outside the try: a misconfigured location hint is no storage failure to retry,
    // it fails closed with a 500 before anything is written.
    const stub = reconcilerStub(env, key);
    let result: ReconcileResult;
    try {
      result = await stub.reconcile({ key, who, rows, separations, requestId, budget, limits });
    } catch (err) {
      await retryThrownCall(err, budget, retry, FAILURE);
      continue;
    }
    d1 = addUsage(d1, result.d1);
    budget.retriesLeft -= result.retriesSpent;
    if (result.kind === "done") {
      return {
        outcome: result.outcome,
        answer: result.response,
        ignored: result.ignored,
        d1,
        objectCalls,
        bookmark: laterBookmark(session.getBookmark(), result.bookmark),
      };
    }
    if (result.kind === "reroute") rows = result.rows;
    key = await nextOwner(result, key, budget, retry, FAILURE);
  }
}

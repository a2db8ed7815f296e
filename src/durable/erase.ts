import { readErasureScope } from "../db/erasure";
import { addUsage, type D1Usage, meteredD1, noUsage } from "../db/metered";
import { database } from "../db/queries";
import { PrimaryD1 } from "../db/sessions";
import type { IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything, type StoredContact } from "../domain/erasure";
import type { ClusterLimits } from "../domain/limits";
import { nextOwner, retryThrownCall, unavailable } from "./owner-answers";
import { reconcilerStub } from "./placement";
import type { EraseResult } from "./reconciler";
import { newBudget, withRetries } from "./retry";
import { erasureOwnerKey, newContactObjects } from "./routing";

/** How a failed erasure is logged. */
const FAILURE = "erasure failed";

export type Erased = {
  /** Undefined when nothing stored matched the target (a 404). */
  result: { erasedContactIds: number[]; clusters: IdentifyResponse[] } | undefined;
  d1: D1Usage;
  objectCalls: number;
  /** The D1 bookmark after the erasure: a read sent with it sees the erasure. */
  bookmark: string | null;
};

/**
 * Erases a cluster or values. Reads the scope once to find the ClusterReconciler that owns
 * it, and has that object erase (re-reading, planning and committing one guarded batch in
 * its queue), following ownership if a merge moved it meanwhile. Retries come out of one
 * budget per request, as for `/identify` (retry.ts). `limits` bound the clusters answered.
 * @throws HttpError 503 when storage or coordination still fails within the budget.
 */
export async function eraseContacts(
  env: Env,
  target: ErasureTarget,
  requestId: string,
  limits: ClusterLimits,
): Promise<Erased> {
  let d1 = noUsage();
  let objectCalls = 0;
  const budget = newBudget();
  // On the primary: a lagging replica could miss what a request just stored, and answer 404.
  const primary = new PrimaryD1(env.DB);
  let rows: StoredContact[];
  try {
    ({ rows } = await withRetries(() => readErasureScope(database(meteredD1(primary.client(), d1)), target), budget));
  } catch (err) {
    throw unavailable(String(err), FAILURE);
  }
  if (!namesAnything(rows, target)) return { result: undefined, d1, objectCalls, bookmark: primary.bookmark() };
  let key = erasureOwnerKey(rows, target, newContactObjects(env));
  for (let retry = 1; ; retry++) {
    objectCalls += 1;
    // Outside the try: a misconfigured location hint fails closed with a 500 (see identify.ts).
    const stub = reconcilerStub(env, key);
    let answer: EraseResult;
    try {
      answer = await stub.erase({ key, target, requestId, budget, limits });
    } catch (err) {
      await retryThrownCall(err, budget, retry, FAILURE);
      continue;
    }
    d1 = addUsage(d1, answer.d1);
    budget.retriesLeft -= answer.retriesSpent;
    if (answer.kind === "done") {
      const { erasedContactIds, clusters, bookmark } = answer;
      return { result: { erasedContactIds, clusters }, d1, objectCalls, bookmark };
    }
    if (answer.kind === "not_found") return { result: undefined, d1, objectCalls, bookmark: primary.bookmark() };
    key = await nextOwner(answer, key, budget, retry, FAILURE);
  }
}

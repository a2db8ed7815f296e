import type { Database } from "../db/client";
import { commitErasure, erasureStamp, readErasureScope } from "../db/erasure";
import { ClusterChangedError } from "../db/guard";
import type { IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything, planErasure } from "../domain/erasure";
import type { ClusterLimits } from "../domain/limits";
import { buildIdentifyResponse } from "../domain/reconcile";
import { contended, failed, type ObjectAnswer, type Spent, spend } from "./answers";
import type { Budget } from "./retry";
import { erasureOwnerKey, newContactObjects } from "./routing";

/**
 * One erasure for the object (see erasureOwnerKey and planErasure). `limits` bound the
 * clusters it answers: the caller's, read before anything is written.
 */
export type EraseCall = {
  key: string;
  target: ErasureTarget;
  requestId: string;
  budget: Budget;
  limits: ClusterLimits;
};

/** What `erase()` answers; storage failures are returned, as for a reconciliation. */
export type EraseResult = ObjectAnswer<
  | { kind: "done"; erasedContactIds: number[]; clusters: IdentifyResponse[]; bookmark: string | null }
  /** Nothing stored holds the values, or no live contact has the id. */
  | { kind: "not_found" }
>;

/**
 * Runs one erasure as the owner `call.key`: reads the whole scope, plans with planErasure,
 * commits one guarded batch; re-reads and re-plans when another object changed the scope
 * meanwhile. `bookmark` gives the primary's bookmark after the commit.
 */
export async function runErasure(
  db: Database,
  env: Env,
  call: EraseCall & Spent,
  bookmark: () => string | null,
): Promise<EraseResult> {
  const { target } = call;
  for (;;) {
    let scope: Awaited<ReturnType<typeof readErasureScope>>;
    try {
      scope = await readErasureScope(db, target);
    } catch (err) {
      return failed(call, err);
    }
    const { rows, bridges } = scope;
    if (!namesAnything(rows, target)) return { kind: "not_found", d1: call.d1, retriesSpent: call.retriesSpent };
    const owner = erasureOwnerKey(rows, target, newContactObjects(env));
    if (owner !== call.key) return { kind: "reroute", ownerKey: owner, d1: call.d1, retriesSpent: call.retriesSpent };
    const plan = planErasure(rows, bridges, target);
    try {
      await commitErasure(db, target, erasureStamp(rows, bridges), plan, call.requestId);
    } catch (err) {
      if (!(err instanceof ClusterChangedError)) {
        // Anything but the guard may have failed after the commit (a lost confirmation):
        // if nothing is left to erase, the answer is unknown, and a retry would say 404.
        const erased = await readErasureScope(db, target).then(
          (after) => !namesAnything(after.rows, target),
          () => false,
        );
        return failed(call, erased ? new Error("erasure confirmation lost") : err);
      }
      if (!spend(call)) return contended(call);
      continue;
    }
    return {
      kind: "done",
      erasedContactIds: plan.deleted,
      // An erasure answers every cluster it leaves, bounded as every answer is.
      clusters: plan.clusters.map((cluster) => buildIdentifyResponse(cluster, call.limits)),
      bookmark: bookmark(),
      d1: call.d1,
      retriesSpent: call.retriesSpent,
    };
  }
}

import type { Database } from "../db/client";
import type { IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything, planErasure } from "../domain/erasure";
import type { ClusterLimits } from "../domain/limits";
import { buildIdentifyResponse } from "../domain/reconcile";
import type { ObjectAnswer, Spent } from "./answers";
import type { Budget } from "./retry";
import { runOverScope, type ScopeStep } from "./scope-job";

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
 * Runs one erasure as the owner `call.key` (runOverScope): plans with planErasure over the
 * whole scope of the target. `bookmark` gives the primary's bookmark after the commit.
 */
export function runErasure(
  db: Database,
  env: Env,
  call: EraseCall & Spent,
  bookmark: () => string | null,
): Promise<EraseResult> {
  const { target } = call;
  return runOverScope(
    db,
    env,
    call,
    target,
    ({ rows, bridges }): ScopeStep<{ kind: "not_found" }> =>
      namesAnything(rows, target)
        ? { plan: planErasure(rows, bridges, target), landed: (after) => !namesAnything(after.rows, target) }
        : { answer: { kind: "not_found" } },
    (plan) => ({
      kind: "done" as const,
      erasedContactIds: plan.deleted,
      // An erasure answers every cluster it leaves, bounded as every answer is.
      clusters: plan.clusters.map((cluster) => buildIdentifyResponse(cluster, call.limits)),
      bookmark: bookmark(),
    }),
  );
}

import type { Database } from "../db/client";
import { commitErasure, erasureStamp, readErasureScope } from "../db/erasure";
import { ClusterChangedError } from "../db/guard";
import type { IdentifyResponse } from "../domain/contact";
import { type ErasurePlan, type ErasureTarget, namesAnything, planErasure } from "../domain/erasure";
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
    const committed = await commitOverScope(
      db,
      call,
      target,
      scope,
      plan,
      (after) => !namesAnything(after.rows, target),
    );
    if (committed === "again") continue;
    if (committed !== "committed") return committed;
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

/**
 * Commits `plan`, made over `scope` (read by readErasureScope for `target`), as one guarded
 * batch: "committed"; "again" when the guard found the scope changed and the budget allows
 * another read and plan; else the answer to give. Anything but the guard may have failed
 * after the commit (a lost confirmation): `landed` tells from a fresh read whether the plan's
 * effect is there, in which case the answer is unknown and reported as such.
 */
export async function commitOverScope(
  db: Database,
  call: Spent & { budget: Budget; requestId: string },
  target: ErasureTarget,
  scope: Awaited<ReturnType<typeof readErasureScope>>,
  plan: ErasurePlan,
  landed: (after: Awaited<ReturnType<typeof readErasureScope>>) => boolean,
): Promise<"committed" | "again" | ReturnType<typeof failed> | ReturnType<typeof contended>> {
  try {
    await commitErasure(db, target, erasureStamp(scope.rows, scope.bridges), plan, call.requestId);
    return "committed";
  } catch (err) {
    if (!(err instanceof ClusterChangedError)) {
      const confirmed = await readErasureScope(db, target).then(landed, () => false);
      return failed(call, confirmed ? new Error("write confirmation lost") : err);
    }
    return spend(call) ? "again" : contended(call);
  }
}

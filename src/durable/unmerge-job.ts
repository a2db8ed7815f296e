import type { Database } from "../db/client";
import { readErasureScope } from "../db/erasure";
import type { IdentifyResponse } from "../domain/contact";
import type { GraphLink } from "../domain/graph";
import type { ClusterLimits } from "../domain/limits";
import { buildIdentifyResponse } from "../domain/reconcile";
import { planUnmerge } from "../domain/unmerge";
import { failed, type ObjectAnswer, type Spent } from "./answers";
import { commitOverScope } from "./erasure-job";
import type { Budget } from "./retry";
import { erasureOwnerKey, newContactObjects } from "./routing";

/** One unmerge for the object: remove bridge `bridgeId` from the cluster of contact `id`. */
export type UnmergeCall = {
  key: string;
  id: number;
  bridgeId: number;
  requestId: string;
  budget: Budget;
  limits: ClusterLimits;
};

/** What `unmerge()` answers; storage failures are returned, as for a reconciliation. */
export type UnmergeResult = ObjectAnswer<
  | { kind: "done"; clusters: IdentifyResponse[]; bookmark: string | null }
  | { kind: "no_contact" }
  | { kind: "no_bridge" }
  | { kind: "still_linked"; path: GraphLink[] }
>;

/**
 * Runs one unmerge as the owner `call.key`, as an erasure runs: reads the cluster's scope,
 * plans with planUnmerge, commits one guarded batch (the erasure's: the guard rejects it if
 * any row or bridge of the scope changed since the read); re-reads and re-plans when another
 * object changed the scope meanwhile.
 */
export async function runUnmerge(
  db: Database,
  env: Env,
  call: UnmergeCall & Spent,
  bookmark: () => string | null,
): Promise<UnmergeResult> {
  const target = { cluster: call.id };
  for (;;) {
    let scope: Awaited<ReturnType<typeof readErasureScope>>;
    try {
      scope = await readErasureScope(db, target);
    } catch (err) {
      return failed(call, err);
    }
    const { rows, bridges } = scope;
    const planned = planUnmerge(rows, bridges, call.id, call.bridgeId);
    if (planned.kind !== "split") return { ...planned, d1: call.d1, retriesSpent: call.retriesSpent };
    const owner = erasureOwnerKey(rows, target, newContactObjects(env));
    if (owner !== call.key) return { kind: "reroute", ownerKey: owner, d1: call.d1, retriesSpent: call.retriesSpent };
    const committed = await commitOverScope(
      db,
      call,
      target,
      scope,
      planned.plan,
      // Landed when the bridge is gone from the cluster.
      (after) => planUnmerge(after.rows, after.bridges, call.id, call.bridgeId).kind === "no_bridge",
    );
    if (committed === "again") continue;
    if (committed !== "committed") return committed;
    return {
      kind: "done",
      clusters: planned.plan.clusters.map((cluster) => buildIdentifyResponse(cluster, call.limits)),
      bookmark: bookmark(),
      d1: call.d1,
      retriesSpent: call.retriesSpent,
    };
  }
}

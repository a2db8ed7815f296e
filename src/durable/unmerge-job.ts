import type { Database } from "../db/client";
import type { IdentifyResponse } from "../domain/contact";
import type { GraphLink } from "../domain/graph";
import type { ClusterLimits } from "../domain/limits";
import { buildIdentifyResponse } from "../domain/reconcile";
import { planUnmerge } from "../domain/unmerge";
import type { ObjectAnswer, Spent } from "./answers";
import type { Budget } from "./retry";
import { runOverScope, type Scope, type ScopeStep } from "./scope-job";

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
 * Runs one unmerge as the owner `call.key`, as an erasure runs (runOverScope): plans with
 * planUnmerge over the cluster's scope; the guard rejects the batch if any row or bridge of
 * the scope changed since the read.
 */
export function runUnmerge(
  db: Database,
  env: Env,
  call: UnmergeCall & Spent,
  bookmark: () => string | null,
): Promise<UnmergeResult> {
  const unmerge = (scope: Scope) => planUnmerge(scope.rows, scope.bridges, call.id, call.bridgeId);
  return runOverScope(
    db,
    env,
    call,
    { cluster: call.id },
    (scope): ScopeStep<Exclude<ReturnType<typeof unmerge>, { kind: "split" }>> => {
      const planned = unmerge(scope);
      if (planned.kind !== "split") return { answer: planned };
      // Landed when the bridge is gone from the cluster.
      return { plan: planned.plan, landed: (after) => unmerge(after).kind === "no_bridge" };
    },
    (plan) => ({
      kind: "done" as const,
      clusters: plan.clusters.map((cluster) => buildIdentifyResponse(cluster, call.limits)),
      bookmark: bookmark(),
    }),
  );
}

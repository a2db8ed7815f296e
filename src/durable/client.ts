import { database, readTouchedClusters } from "../db/queries";
import type { Identifiers, IdentifyResponse } from "../domain/contact";
import { type Outcome, buildIdentifyResponse, isReadOnly, planReconciliation } from "../domain/reconcile";
import { serviceUnavailable } from "../errors";
import { ownerKey } from "./routing";

/** Objects a request may be handed on to as clusters merge under it, before a 503. */
export const MAX_HOPS = 8;

/**
 * Identifies a caller's contact. Reads the touched clusters once; a request that
 * changes nothing is answered from that read, anything else goes to the
 * ClusterReconciler owning the cluster, following it as merges move ownership.
 */
export async function identifyContact(
  env: Env,
  who: Identifiers,
): Promise<{ outcome: Outcome; response: IdentifyResponse }> {
  let rows = await readTouchedClusters(database(env.DB), who);
  const plan = planReconciliation(rows, who);
  if (isReadOnly(plan)) return { outcome: plan.outcome, response: buildIdentifyResponse(rows) };

  let key = ownerKey(rows, who);
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const result = await env.RECONCILER.getByName(key).reconcile(key, who, rows);
    if (result.kind === "done") return { outcome: result.outcome, response: result.response };
    if (result.kind === "contended") break;
    key = result.ownerKey;
    rows = result.rows;
  }
  throw serviceUnavailable("The contact is being changed by many requests at once; retry shortly.");
}

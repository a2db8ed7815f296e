import { ERRORS } from "../contract/errors";
import { database } from "../db/client";
import { addUsage, meteredD1, noUsage } from "../db/metered";
import { readClusterOfContact } from "../db/reads";
import { PrimaryD1 } from "../db/sessions";
import type { ContactRow, IdentifyResponse } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import { newBudget, withRetries } from "../durable/retry";
import { newContactObjects, ownerKey } from "../durable/routing";
import type { UnmergeResult } from "../durable/unmerge-job";
import { fail } from "../errors";
import { askOwner, unavailable } from "./owner-answers";
import type { UseCaseResult } from "./result";

/** How a failed unmerge is logged. */
const FAILURE = "unmerge failed";

/**
 * `POST /contacts/{id}/unmerge`: removes bridge `bridgeId` from the cluster of `id` and
 * re-forms it, through the ClusterReconciler that owns the cluster (found from one bounded
 * read on the primary, then followed if a merge moved it); no answer when `id` is no live contact.
 * @throws HttpError 404 `bridge_not_found` when the bridge is not in that cluster, 409
 * `still_linked` (with the `path`) when other links still join its two contacts, 503 when
 * storage or coordination still fails within the budget.
 */
export async function unmergeBridge(
  env: Env,
  id: number,
  bridgeId: number,
  requestId: string,
  limits: ClusterLimits,
): Promise<UseCaseResult<{ clusters: IdentifyResponse[] }>> {
  const d1 = noUsage();
  const budget = newBudget();
  const primary = new PrimaryD1(env.DB);
  let rows: ContactRow[];
  try {
    rows = await withRetries(() => readClusterOfContact(database(meteredD1(primary.client(), d1)), id, limits), budget);
  } catch (err) {
    throw unavailable(String(err), FAILURE);
  }
  if (rows.length === 0) return { answer: undefined, d1, objectCalls: 0, bookmark: primary.bookmark(), ignored: [] };
  const asked = await askOwner<Extract<UnmergeResult, { kind: "done" | "no_contact" | "no_bridge" | "still_linked" }>>(
    env,
    ownerKey(rows, {}, newContactObjects(env)),
    budget,
    FAILURE,
    (stub, key) => stub.unmerge({ key, id, bridgeId, requestId, budget, limits }),
  );
  const usage = { d1: addUsage(d1, asked.d1), objectCalls: asked.objectCalls, ignored: [] };
  switch (asked.answer.kind) {
    case "done":
      return { answer: { clusters: asked.answer.clusters }, ...usage, bookmark: asked.answer.bookmark };
    case "no_contact":
      return { answer: undefined, ...usage, bookmark: primary.bookmark() };
    case "no_bridge":
      throw fail("bridge_not_found");
    case "still_linked":
      throw fail("still_linked", { path: asked.answer.path, message: ERRORS.still_linked.message });
  }
}

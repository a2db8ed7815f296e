import { database } from "../db/client";
import { readErasureScope } from "../db/erasure";
import { addUsage, meteredD1, noUsage } from "../db/metered";
import { PrimaryD1 } from "../db/sessions";
import type { Identifiers, IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything, type StoredContact } from "../domain/erasure";
import type { ClusterLimits } from "../domain/limits";
import type { EraseResult } from "../durable/erasure-job";
import { newBudget, withRetries } from "../durable/retry";
import { erasureOwnerKey, newContactObjects } from "../durable/routing";
import { askOwner, unavailable } from "./owner-answers";
import type { UseCaseResult } from "./result";

/** How a failed erasure is logged. */
const FAILURE = "erasure failed";

/** What an erasure answers: the contacts deleted, and what remains of every cluster it touched. */
export type Erased = { erasedContactIds: number[]; clusters: IdentifyResponse[] };

/**
 * Erases a cluster or values. Reads the scope once to find the ClusterReconciler that owns
 * it, and has that object erase (re-reading, planning and committing one guarded batch in
 * its queue), following ownership if a merge moved it meanwhile. Retries come out of one
 * budget per request, as for `/identify` (retry.ts). `limits` bound the clusters answered.
 * @throws HttpError 503 when storage or coordination still fails within the budget.
 */
async function eraseContacts(
  env: Env,
  target: ErasureTarget,
  requestId: string,
  limits: ClusterLimits,
): Promise<UseCaseResult<Erased>> {
  const d1 = noUsage();
  const budget = newBudget();
  // On the primary: a lagging replica could miss what a request just stored, and answer 404.
  const primary = new PrimaryD1(env.DB);
  let rows: StoredContact[];
  try {
    ({ rows } = await withRetries(() => readErasureScope(database(meteredD1(primary.client(), d1)), target), budget));
  } catch (err) {
    throw unavailable(String(err), FAILURE);
  }
  if (!namesAnything(rows, target)) {
    return { answer: undefined, d1, objectCalls: 0, bookmark: primary.bookmark(), ignored: [] };
  }
  const key = erasureOwnerKey(rows, target, newContactObjects(env));
  const asked = await askOwner<Extract<EraseResult, { kind: "done" | "not_found" }>>(
    env,
    key,
    budget,
    FAILURE,
    (stub, owner) => stub.erase({ key: owner, target, requestId, budget, limits }),
  );
  const usage = { d1: addUsage(d1, asked.d1), objectCalls: asked.objectCalls, ignored: [] };
  if (asked.answer.kind === "not_found") return { answer: undefined, ...usage, bookmark: primary.bookmark() };
  const { erasedContactIds, clusters, bookmark } = asked.answer;
  return { answer: { erasedContactIds, clusters }, ...usage, bookmark };
}

/**
 * `POST /erase`: removes an email and/or a phone from every contact holding them, deletes
 * contacts left with neither; no answer when nothing stored holds them.
 */
export function eraseValues(
  env: Env,
  values: Identifiers,
  requestId: string,
  limits: ClusterLimits,
): Promise<UseCaseResult<Erased>> {
  return eraseContacts(env, { values }, requestId, limits);
}

/** `DELETE /contacts/{id}`: erases the whole cluster of contact `id`; no answer when there is none. */
export async function eraseCluster(
  env: Env,
  id: number,
  requestId: string,
  limits: ClusterLimits,
): Promise<UseCaseResult<{ erasedContactIds: number[] }>> {
  const result = await eraseContacts(env, { cluster: id }, requestId, limits);
  return { ...result, answer: result.answer && { erasedContactIds: result.answer.erasedContactIds } };
}

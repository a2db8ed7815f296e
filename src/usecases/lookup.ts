import { encodeCursor } from "../contract/cursor";
import { serializeEvent } from "../contract/events";
import type { HistoryPage } from "../contract/responses";
import { isLiveContact, isNamedByEvent, readClusterOfContact, readHistory, readTouchedClusters } from "../db/reads";
import type { Identifiers, IdentifyResponse } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import { answerLookup } from "../domain/lookup";
import { buildIdentifyResponse } from "../domain/reconcile";
import { readOnly, type UseCaseResult } from "./result";

/** `POST /lookup`: the cluster of the email, else of the phone; no answer when neither is known. */
export function lookupContact(
  env: Env,
  who: Identifiers,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<UseCaseResult<IdentifyResponse>> {
  return readOnly(env, bookmark, async (db) => {
    const found = answerLookup(await readTouchedClusters(db, who, limits), who, limits);
    return found ? { answer: found.response, ignored: found.ignored } : { answer: undefined };
  });
}

/** `GET /contacts/{id}`: the cluster of contact `id`; no answer when there is no such live contact. */
export function contactCluster(
  env: Env,
  id: number,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<UseCaseResult<IdentifyResponse>> {
  return readOnly(env, bookmark, async (db) => {
    const rows = await readClusterOfContact(db, id, limits);
    return { answer: rows.length === 0 ? undefined : buildIdentifyResponse(rows, limits) };
  });
}

/**
 * `GET /contacts/{id}/history`: one page of the events of the cluster of `id`, oldest first,
 * also for a former (erased) id: at most `limit`, after event `afterId`, with the cursor to ask
 * with next (as the feed answers it). No answer when `id` is neither live nor named by any
 * event. A live contact from before events were recorded has an empty history.
 */
export function contactHistory(
  env: Env,
  id: number,
  { afterId, limit }: { afterId: number; limit: number },
  bookmark?: string,
): Promise<UseCaseResult<HistoryPage>> {
  return readOnly(env, bookmark, async (db) => {
    const rows = await readHistory(db, id, afterId, limit);
    const page = { events: rows.map(serializeEvent), next: encodeCursor(rows.at(-1)?.id ?? afterId) };
    if (rows.length > 0) return { answer: page };
    // An empty page: past the end of a history, or no history at all (then a 404 unless live).
    const known = (await isNamedByEvent(db, id)) || (await isLiveContact(db, id));
    return { answer: known ? page : undefined };
  });
}

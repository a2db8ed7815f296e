import { type D1Usage, meteredD1, noUsage } from "../db/metered";
import {
  type Database,
  database,
  isLiveContact,
  readClusterOfContact,
  readHistory,
  readTouchedClusters,
} from "../db/queries";
import { readSession } from "../db/sessions";
import type { HistoryEvent, Identifiers, IdentifyResponse } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import { answerLookup, type LookupAnswer } from "../domain/lookup";
import { buildIdentifyResponse } from "../domain/reconcile";
import { unavailable } from "./owner-answers";
import { withRetries } from "./retry";

/**
 * A read-only answer, the D1 work it took (one read; no object is ever called), and
 * the bookmark of that read, for the caller to send back.
 */
export type Read<T> = { answer: T; d1: D1Usage; bookmark: string | null };

/**
 * Runs one read of the Worker's read-only routes through a D1 session: on the nearest
 * replica, or on one at least as new as `bookmark`. Retries transient faults.
 * @throws HttpError 503 when storage still fails after retries.
 */
async function readOnly<T>(
  env: Env,
  bookmark: string | undefined,
  read: (db: Database) => Promise<T>,
): Promise<Read<T>> {
  const d1 = noUsage();
  try {
    const session = readSession(env.DB, bookmark);
    const answer = await withRetries(() => read(database(meteredD1(session, d1))));
    return { answer, d1, bookmark: session.getBookmark() };
  } catch (err) {
    throw unavailable(String(err), "storage read failed");
  }
}

/** `POST /lookup`: the cluster of the email, else of the phone; undefined when neither is known. */
export function lookupContact(
  env: Env,
  who: Identifiers,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<Read<LookupAnswer | undefined>> {
  return readOnly(env, bookmark, async (db) => answerLookup(await readTouchedClusters(db, who, limits), who, limits));
}

/** `GET /contacts/{id}`: the cluster of contact `id`; undefined when there is no such live contact. */
export function contactCluster(
  env: Env,
  id: number,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<Read<IdentifyResponse | undefined>> {
  return readOnly(env, bookmark, async (db) => {
    const rows = await readClusterOfContact(db, id, limits);
    return rows.length === 0 ? undefined : buildIdentifyResponse(rows, limits);
  });
}

/**
 * `GET /contacts/{id}/history`: the events of the cluster of `id`, oldest first, also for a
 * former (erased) id; undefined when `id` is neither live nor named by any event. A live
 * contact from before events were recorded has an empty history.
 */
export function contactHistory(env: Env, id: number, bookmark?: string): Promise<Read<HistoryEvent[] | undefined>> {
  return readOnly(env, bookmark, async (db) => {
    const events = await readHistory(db, id);
    if (events.length > 0) return events;
    return (await isLiveContact(db, id)) ? [] : undefined;
  });
}

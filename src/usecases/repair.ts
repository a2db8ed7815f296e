import { ERRORS } from "../contract/errors";
import type { ContactGraph, GraphLink, Separation } from "../contract/graph";
import { database } from "../db/client";
import { deleteSeparation, readClusterGraph, readClusterPair, readClusterSeparations } from "../db/graph";
import { meteredD1, noUsage } from "../db/metered";
import { PrimaryD1 } from "../db/sessions";
import { buildGraph, linksOf, shortestPath } from "../domain/graph";
import type { ClusterLimits } from "../domain/limits";
import { withRetries } from "../durable/retry";
import { fail } from "../errors";
import { unavailable } from "./owner-answers";
import { readOnly, type UseCaseResult } from "./result";

// The reads of merge repair: in the Worker, one D1 round trip each, no object called.

/** `GET /contacts/{id}/graph`: the cluster of `id` as contacts and links; no answer when there is no such contact. */
export function contactGraph(
  env: Env,
  id: number,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<UseCaseResult<ContactGraph>> {
  return readOnly(env, bookmark, async (db) => {
    const { rows, bridges } = await readClusterGraph(db, id, limits);
    return { answer: rows.length === 0 ? undefined : buildGraph(rows, bridges) };
  });
}

/**
 * `GET /contacts/{id}/explain?to=`: a shortest chain of links from `id` to `to`; no answer
 * when `id` is no live contact.
 * @throws HttpError 404 when `to` is no live contact, 409 `not_linked` when the two are in
 * different clusters (or no chain joins them among what the read of an over-limit cluster covers).
 */
export async function explainLink(
  env: Env,
  id: number,
  to: number,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<UseCaseResult<{ path: GraphLink[] }>> {
  const read = await readOnly(env, bookmark, async (db) => ({ answer: await readClusterPair(db, id, to, limits) }));
  const found = read.answer;
  if (!found || found.roots.id === null) return { ...read, answer: undefined };
  if (found.roots.to === null) throw fail("contact_not_found", { message: ERRORS.contact_not_found.variants.id(to) });
  if (found.roots.id !== found.roots.to) throw fail("not_linked");
  const path = shortestPath(linksOf(found.rows, found.bridges), id, to);
  if (path === null) throw fail("not_linked", { message: ERRORS.not_linked.variants.overLimits });
  return { ...read, answer: { path } };
}

/** `GET /contacts/{id}/separations`: the standing separations touching the cluster of `id`. */
export function contactSeparations(
  env: Env,
  id: number,
  limits: ClusterLimits,
  bookmark?: string,
): Promise<UseCaseResult<Separation[]>> {
  return readOnly(env, bookmark, async (db) => ({
    answer: (await readClusterSeparations(db, id, limits)) ?? undefined,
  }));
}

/**
 * `DELETE /separations/{id}`: lifts separation `id` (on the primary, one statement); no
 * answer when there is none. Lifting merges nothing: the next request that would merge the
 * two clusters does. No object is needed: a merge committing meanwhile is decided by its
 * own guard, which reads the separations inside its batch.
 */
export async function liftSeparation(env: Env, id: number): Promise<UseCaseResult<Separation>> {
  const d1 = noUsage();
  const primary = new PrimaryD1(env.DB);
  try {
    // Deleting twice deletes once: a retry after a lost confirmation answers 404, nothing worse.
    const lifted = await withRetries(() => deleteSeparation(database(meteredD1(primary.client(), d1)), id));
    return { answer: lifted ?? undefined, d1, objectCalls: 0, bookmark: primary.bookmark(), ignored: [] };
  } catch (err) {
    throw unavailable(String(err), "separation delete failed");
  }
}

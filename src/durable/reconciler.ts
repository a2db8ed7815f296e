import { DurableObject } from "cloudflare:workers";
import { commitErasure, erasureStamp, readErasureScope } from "../db/erasure";
import { type D1Usage, meteredD1, noUsage } from "../db/metered";
import { ClusterChangedError, commitPlan, database, planStamp, readTouchedClusters } from "../db/queries";
import { laterBookmark, PrimaryD1 } from "../db/sessions";
import type { ContactRow, Identifiers, IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything, planErasure } from "../domain/erasure";
import { buildIdentifyResponse, isReadOnly, type Outcome, planReconciliation } from "../domain/reconcile";
import { isTransient, withRetries } from "./retry";
import { erasureOwnerKey, newContactObjects, ownerKey } from "./routing";
import { SerialQueue } from "./serial-queue";

/** Plans re-made in one object after a guard abort before the caller gets a 503. */
export const MAX_ATTEMPTS = 8;

export type ReconcileResult = { d1: D1Usage } & (
  | { kind: "done"; outcome: Outcome; response: IdentifyResponse; bookmark: string | null }
  /** The clusters now belong to another object: ask it, with the rows read here. */
  | { kind: "reroute"; ownerKey: string; rows: ContactRow[] }
  /** The clusters kept changing under every attempt. */
  | { kind: "contended" }
  /**
   * Storage failed. Returned, not thrown: an error thrown across the RPC boundary is
   * reported by the runtime as an uncaught exception of the object, stack and all.
   */
  | { kind: "failed"; transient: boolean; message: string }
);

/** What `erase()` answers; storage failures are returned, as for `reconcile()`. */
export type EraseResult = { d1: D1Usage } & (
  | { kind: "done"; erasedContactIds: number[]; clusters: IdentifyResponse[]; bookmark: string | null }
  /** Nothing stored holds the values, or no live contact has the id. */
  | { kind: "not_found" }
  | { kind: "reroute"; ownerKey: string }
  | { kind: "contended" }
  | { kind: "failed"; transient: boolean; message: string }
);

/**
 * The rows to plan `who` on, given the caller's `rows` and `committed`, the clusters
 * as this object's latest commit read them back (one cluster: a commit merges all it
 * touches), or null when only a fresh read can tell.
 * - The caller saw rows, and that cluster holds all of them: it is the whole truth for
 *   this request as of that commit (no two clusters share an identifier).
 * - The caller saw nothing: that cluster is this request's only if it holds the email or
 *   the phone (the commit created the contact while the call waited). Otherwise the
 *   caller's empty read stands: in a warm object shared by many new customers, the
 *   latest commit is usually another customer's, and must never answer this one.
 * Either way the guard of the write still checks what the plan relies on.
 */
export function coveredBy(committed: ContactRow[], rows: ContactRow[], who: Identifiers): ContactRow[] | null {
  if (rows.length === 0) {
    const holds = committed.some(
      (row) =>
        (who.email !== undefined && row.email === who.email) ||
        (who.phoneNumber !== undefined && row.phoneNumber === who.phoneNumber),
    );
    return holds ? committed : rows;
  }
  const ids = new Set(committed.map((row) => row.id));
  return rows.every((row) => ids.has(row.id)) ? committed : null;
}

/**
 * Serialises the writes of one cluster. Every write of the service goes through
 * `reconcile()` on the object named by `ownerKey()`; the data itself lives in D1.
 */
export class ClusterReconciler extends DurableObject<Env> {
  private readonly queue = new SerialQueue();
  /** Bumped after each commit, so a call can tell whether one happened while it waited. */
  private commits = 0;
  /** The clusters as the latest commit read them back, inside its transaction. */
  private lastCommitted: ContactRow[] = [];
  /** The D1 bookmark of that commit. */
  private lastCommittedBookmark: string | null = null;

  /**
   * Reconciles `who` as the owner `key`. `rows` are the touched clusters as the
   * caller read them, and `key` is `ownerKey(rows, who)`. `requestId` (the request
   * log's) is recorded with the events the commit writes.
   */
  async reconcile(key: string, who: Identifiers, rows: ContactRow[], requestId: string): Promise<ReconcileResult> {
    const commitsAtArrival = this.commits;
    const d1 = noUsage();
    return this.queue.run(async (): Promise<ReconcileResult> => {
      try {
        return await this.reconcileNow(key, who, rows, requestId, commitsAtArrival, d1);
      } catch (err) {
        // src/db has already replaced drizzle's wrapper (which quotes the caller's
        // email and phone) with D1's own error, so the message is safe to pass on.
        return { kind: "failed", transient: isTransient(err), message: String(err), d1 };
      }
    });
  }

  private async reconcileNow(
    key: string,
    who: Identifiers,
    rows: ContactRow[],
    requestId: string,
    commitsAtArrival: number,
    d1: D1Usage,
  ): Promise<ReconcileResult> {
    // Everything an object reads or writes is on the primary: its plans must see the
    // latest commits, and its answer's bookmark must cover its own commit.
    const primary = new PrimaryD1(this.env.DB);
    const db = database(meteredD1(primary.client(), d1));
    const reread = () => withRetries(() => readTouchedClusters(db, who));

    let current = rows;
    if (this.commits !== commitsAtArrival) {
      // A commit made here while this call waited is newer than the caller's read.
      current = coveredBy(this.lastCommitted, rows, who) ?? (await reread());
    }
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const plan = planReconciliation(current, who);
      if (isReadOnly(plan)) {
        return {
          kind: "done",
          outcome: plan.outcome,
          response: buildIdentifyResponse(current),
          d1,
          // It may show this object's latest commit's rows: cover that commit too.
          bookmark: laterBookmark(primary.bookmark(), this.lastCommittedBookmark),
        };
      }
      // The caller routed by its own rows: only other rows can name another owner.
      const owner = current === rows ? key : ownerKey(current, who, newContactObjects(this.env));
      if (owner !== key) return { kind: "reroute", ownerKey: owner, rows: current, d1 };
      try {
        const stamp = planStamp(current, who, plan.primaryId);
        const committed = await withRetries(() => commitPlan(db, who, stamp, plan, requestId));
        this.commits++;
        this.lastCommitted = committed;
        this.lastCommittedBookmark = primary.bookmark();
        return {
          kind: "done",
          outcome: plan.outcome,
          response: buildIdentifyResponse(committed),
          d1,
          bookmark: this.lastCommittedBookmark,
        };
      } catch (err) {
        if (!(err instanceof ClusterChangedError)) throw err;
        // Another object changed what the plan relied on between our read and our write.
        current = await reread();
      }
    }
    return { kind: "contended", d1 };
  }

  /**
   * Erases `target` as the owner `key` (see erasureOwnerKey), queued with this object's
   * reconciliations: reads the whole scope, plans with planErasure, commits one guarded
   * batch; re-reads and re-plans when another object changed the scope meanwhile.
   */
  async erase(key: string, target: ErasureTarget, requestId: string): Promise<EraseResult> {
    const d1 = noUsage();
    return this.queue.run(async (): Promise<EraseResult> => {
      try {
        return await this.eraseNow(key, target, requestId, d1);
      } catch (err) {
        return { kind: "failed", transient: isTransient(err), message: String(err), d1 };
      }
    });
  }

  private async eraseNow(key: string, target: ErasureTarget, requestId: string, d1: D1Usage): Promise<EraseResult> {
    // On the primary, as every read and write of an object (see reconcileNow).
    const primary = new PrimaryD1(this.env.DB);
    const db = database(meteredD1(primary.client(), d1));
    let uncertain = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { rows, bridges } = await withRetries(() => readErasureScope(db, target));
      if (!namesAnything(rows, target)) {
        // A commit whose confirmation was lost may have erased it already: say so (503), not 404.
        if (uncertain) return { kind: "failed", transient: false, message: "erasure confirmation lost", d1 };
        return { kind: "not_found", d1 };
      }
      const owner = erasureOwnerKey(rows, target, newContactObjects(this.env));
      if (owner !== key) return { kind: "reroute", ownerKey: owner, d1 };
      const plan = planErasure(rows, bridges, target);
      try {
        await withRetries(async () => {
          try {
            await commitErasure(db, target, erasureStamp(rows, bridges), plan, requestId);
          } catch (err) {
            // Anything but the guard may have failed after the commit (a lost confirmation).
            if (!(err instanceof ClusterChangedError)) uncertain = true;
            throw err;
          }
        });
      } catch (err) {
        if (!(err instanceof ClusterChangedError)) throw err;
        continue;
      }
      // The rows of the last commit no longer stand for anything a queued call may plan on.
      this.commits++;
      this.lastCommitted = [];
      this.lastCommittedBookmark = primary.bookmark();
      return {
        kind: "done",
        erasedContactIds: plan.deleted,
        clusters: plan.clusters.map((cluster) => buildIdentifyResponse(cluster)),
        d1,
        bookmark: this.lastCommittedBookmark,
      };
    }
    return { kind: "contended", d1 };
  }
}

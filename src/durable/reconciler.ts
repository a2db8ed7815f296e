import { DurableObject } from "cloudflare:workers";
import { commitErasure, erasureStamp, readErasureScope } from "../db/erasure";
import { type D1Usage, meteredD1, noUsage } from "../db/metered";
import {
  ClusterChangedError,
  commitCost,
  commitPlans,
  type Database,
  database,
  type PlannedCommit,
  planStamp,
  readTouchedClusters,
} from "../db/queries";
import { PrimaryD1 } from "../db/sessions";
import type { Ignored } from "../domain/blocking";
import type { ContactRow, Identifiers, IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything, planErasure } from "../domain/erasure";
import type { ClusterLimits } from "../domain/limits";
import {
  applyPlan,
  buildIdentifyResponse,
  clusterOf,
  isReadOnly,
  type Outcome,
  planReconciliation,
  type ReconciliationPlan,
  rootOf,
} from "../domain/reconcile";
import { type Budget, isOverloaded, isTransient, spendRetry } from "./retry";
import { erasureOwnerKey, newContactObjects, ownerKey } from "./routing";
import { type Refusal, WriteQueue } from "./write-queue";

/**
 * Bounds of one group commit. D1 caps a statement at 100 bound parameters (each of ours
 * binds a handful, however many share a batch) and, on the free plan, an invocation at
 * 50 queries; a batch's SQL is kept well under D1's 100 KB statement size.
 */
const GROUP_LIMITS = { statements: 50, bytes: 64 * 1024 } as const;

/** Clusters read back by recent commits that queued calls may plan on. */
const REMEMBERED_CLUSTERS = 64;

/** One request for the object: who, the rows the caller read, the owner key it routed by. */
export type ReconcileCall = {
  /** `ownerKey(rows, who)`: the name of the object called. */
  key: string;
  who: Identifiers;
  /** The touched clusters as the caller read them. */
  rows: ContactRow[];
  /** The request log's id, recorded with the events the commit writes. */
  requestId: string;
  /** What is left of the request's retry budget (see retry.ts). */
  budget: Budget;
  /** The cluster limits of the caller's configuration: one request is planned under one from end to end. */
  limits: ClusterLimits;
};

export type ReconcileResult = {
  d1: D1Usage;
  /** Retries of the request's budget spent here (re-plans after a guard abort). */
  retriesSpent: number;
} /** `bookmark`: at or after this object's latest commit, which the answer may show. */ & (
  | { kind: "done"; outcome: Outcome; response: IdentifyResponse; ignored: Ignored[]; bookmark: string | null }
  /** The clusters now belong to another object: ask it, with the rows read here. */
  | { kind: "reroute"; ownerKey: string; rows: ContactRow[] }
  /** The clusters kept changing under every attempt the budget allowed. */
  | { kind: "contended" }
  /** Refused before anything was written: the queue was full, or the call waited past its deadline. */
  | { kind: "busy"; why: Refusal }
  /**
   * Storage failed. Returned, not thrown: an error thrown across the RPC boundary is
   * reported by the runtime as an uncaught exception of the object, stack and all.
   */
  | { kind: "failed"; transient: boolean; overloaded: boolean; message: string }
);

/** What `erase()` answers; storage failures are returned, as for `reconcile()`. */
export type EraseResult = { d1: D1Usage; retriesSpent: number } & (
  | { kind: "done"; erasedContactIds: number[]; clusters: IdentifyResponse[]; bookmark: string | null }
  /** Nothing stored holds the values, or no live contact has the id. */
  | { kind: "not_found" }
  | { kind: "reroute"; ownerKey: string }
  | { kind: "contended" }
  | { kind: "busy"; why: Refusal }
  | { kind: "failed"; transient: boolean; overloaded: boolean; message: string }
);

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

/** What a call has cost so far, reconciliation or erasure alike. */
type Spent = { d1: D1Usage; retriesSpent: number };

/** A call in the object, with what it has cost so far. */
type Queued = ReconcileCall & Spent & { commitsAtArrival: number };

/** What waits in an object's queue: reconciliations, grouped when they can be, and erasures, alone. */
type Job = { kind: "reconcile"; call: Queued } | { kind: "erase"; call: EraseCall & Spent };
type JobResult = { kind: "reconcile"; result: ReconcileResult } | { kind: "erase"; result: EraseResult };

/** A queued call planned for the next group commit. */
type Planned = { call: Queued; commit: PlannedCommit };

function holds(row: ContactRow, who: Identifiers): boolean {
  return (
    (who.email !== undefined && row.email === who.email) ||
    (who.phoneNumber !== undefined && row.phoneNumber === who.phoneNumber)
  );
}

/**
 * The rows to plan `who` on, from `rows` (what the caller read) and `recent` (clusters
 * as commits of this object read them back, oldest first), or null when only a fresh
 * read can tell. A commit merges all it touches, so each read back is one cluster.
 * - The caller saw rows, and a recent cluster holds all of them: the newest such is the
 *   whole truth for this request as of its commit (no two clusters share an identifier).
 * - The caller saw nothing: a recent cluster is this request's only if it holds the email
 *   or the phone (a commit created the contact while the call waited). Otherwise the
 *   caller's empty read stands: in a warm object shared by many new customers, the
 *   latest commit is usually another customer's, and must never answer this one.
 * Either way the guard of the write still checks what the plan relies on.
 */
function coveredBy(recent: readonly ContactRow[][], rows: ContactRow[], who: Identifiers): ContactRow[] | null {
  for (let i = recent.length - 1; i >= 0; i--) {
    const cluster = recent[i] ?? [];
    if (rows.length === 0) {
      if (cluster.some((row) => holds(row, who))) return cluster;
      continue;
    }
    const ids = new Set(cluster.map((row) => row.id));
    if (rows.every((row) => ids.has(row.id))) return cluster;
  }
  return rows.length === 0 ? rows : null;
}

/**
 * `view` as it will be once the plans already made for this group are committed:
 * `pending` holds their touched clusters after their writes (complete clusters, keyed
 * by id; rows not inserted yet have negative ids). Returns the rows, and whether any of
 * them comes from `pending`.
 */
function withPending(view: ContactRow[], pending: Map<number, ContactRow>, who: Identifiers) {
  if (pending.size === 0) return { rows: view, pending: false };
  const byId = new Map<number, ContactRow>();
  let touched = false;
  for (const row of view) {
    const planned = pending.get(row.id);
    byId.set(row.id, planned ?? row);
    touched ||= planned !== undefined;
  }
  for (const row of pending.values()) {
    if (!byId.has(row.id) && holds(row, who)) {
      byId.set(row.id, row);
      touched = true;
    }
  }
  if (!touched) return { rows: view, pending: false };
  const roots = new Set([...byId.values()].map(rootOf));
  for (const row of pending.values()) if (roots.has(rootOf(row))) byId.set(row.id, row);
  return { rows: [...byId.values()], pending: true };
}

/** A plan that needs the id of a contact this group has not inserted yet must wait for it. */
function needsPendingId(plan: ReconciliationPlan): boolean {
  return (plan.primaryId ?? 0) < 0 || plan.absorb.some((root) => root < 0);
}

/**
 * Serialises the writes of one cluster (or, for new customers, of a warm object shared
 * by many). Every write of the service goes through `reconcile()` on the object named
 * by `ownerKey()`; the data itself lives in D1. Calls that wait while a commit is under
 * way are planned together, in order, and committed in one guarded batch.
 */
export class ClusterReconciler extends DurableObject<Env> {
  private readonly queue = new WriteQueue<Job, JobResult>(
    (jobs) => this.runJobs(jobs),
    ({ kind, call }, why): JobResult => {
      const busy = { kind: "busy", why, d1: call.d1, retriesSpent: call.retriesSpent } as const;
      return kind === "erase" ? { kind, result: busy } : { kind, result: busy };
    },
  );
  /** Bumped after each commit, so a call can tell whether one happened while it waited. */
  private commits = 0;
  /** Clusters as this object's latest commits read them back, oldest first. */
  private recent: { commit: number; cluster: ContactRow[] }[] = [];
  /**
   * Everything an object reads or writes is on D1's primary: its plans must see the
   * latest commits, and its answers' bookmark must cover its own commits.
   */
  private readonly primary = new PrimaryD1(this.env.DB);

  /** Reconciles `call.who` as the owner `call.key` (see ReconcileCall). */
  async reconcile(call: ReconcileCall): Promise<ReconcileResult> {
    const queued: Queued = { ...call, commitsAtArrival: this.commits, d1: noUsage(), retriesSpent: 0 };
    const answer = await this.queue.run({ kind: "reconcile", call: queued }, call.budget.deadline);
    return answer.kind === "reconcile" ? answer.result : { kind: "contended", d1: queued.d1, retriesSpent: 0 };
  }

  /**
   * Erases `call.target` as the owner `call.key` (see erasureOwnerKey), queued with this
   * object's reconciliations: reads the whole scope, plans with planErasure, commits one
   * guarded batch; re-reads and re-plans when another object changed the scope meanwhile.
   */
  async erase(call: EraseCall): Promise<EraseResult> {
    const job = { kind: "erase", call: { ...call, d1: noUsage(), retriesSpent: 0 } } as const;
    const answer = await this.queue.run(job, call.budget.deadline);
    return answer.kind === "erase" ? answer.result : { kind: "contended", d1: job.call.d1, retriesSpent: 0 };
  }

  /** A group of reconciliations, up to the first erasure; or that erasure alone. */
  private async runJobs(jobs: Job[]): Promise<JobResult[]> {
    const [first] = jobs;
    if (first?.kind === "erase") return [{ kind: "erase", result: await this.eraseNow(first.call) }];
    const calls: Queued[] = [];
    for (const job of jobs) {
      if (job.kind === "erase") break;
      calls.push(job.call);
    }
    const results = await this.reconcileGroup(calls);
    return results.map((result) => ({ kind: "reconcile", result }));
  }

  private async eraseNow(call: EraseCall & Spent): Promise<EraseResult> {
    const db = database(meteredD1(this.primary.client(), call.d1));
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
      const owner = erasureOwnerKey(rows, target, newContactObjects(this.env));
      if (owner !== call.key) {
        return { kind: "reroute", ownerKey: owner, d1: call.d1, retriesSpent: call.retriesSpent };
      }
      const plan = planErasure(rows, bridges, target);
      try {
        await commitErasure(db, target, erasureStamp(rows, bridges), plan, call.requestId);
      } catch (err) {
        if (!(err instanceof ClusterChangedError)) {
          // Anything but the guard may have failed after the commit (a lost confirmation):
          // if nothing is left to erase, the answer is unknown, and a retry would say 404.
          const erased = await readErasureScope(db, target).then(
            (after) => !namesAnything(after.rows, target),
            () => false,
          );
          return failed(call, erased ? new Error("erasure confirmation lost") : err);
        }
        if (!spend(call)) return { kind: "contended", d1: call.d1, retriesSpent: call.retriesSpent };
        continue;
      }
      // The rows of earlier commits no longer stand for anything a queued call may plan on.
      this.commits += 1;
      this.recent = [];
      return {
        kind: "done",
        erasedContactIds: plan.deleted,
        // An erasure answers every cluster it leaves, bounded as every answer is.
        clusters: plan.clusters.map((cluster) => buildIdentifyResponse(cluster, call.limits)),
        bookmark: this.primary.bookmark(),
        d1: call.d1,
        retriesSpent: call.retriesSpent,
      };
    }
  }

  private db(call: Queued): Database {
    return database(meteredD1(this.primary.client(), call.d1));
  }

  private remember(clusters: ContactRow[][]): void {
    this.commits += 1;
    const commit = this.commits;
    this.recent = [...this.recent, ...clusters.map((cluster) => ({ commit, cluster }))].slice(-REMEMBERED_CLUSTERS);
  }

  /** The freshest rows to plan `call` on: the caller's, or a recent commit's, or a fresh read. */
  private async currentRows(call: Queued): Promise<ContactRow[]> {
    if (this.commits === call.commitsAtArrival) return call.rows;
    // Only clusters committed after the call arrived, so after the caller's read: an older
    // one may hold values or contacts that an erasure (through another object) has since
    // removed, and it would answer with them.
    const since = this.recent.filter((entry) => entry.commit > call.commitsAtArrival).map((entry) => entry.cluster);
    return coveredBy(since, call.rows, call.who) ?? (await readTouchedClusters(this.db(call), call.who, call.limits));
  }

  /**
   * Plans the waiting calls in order, each on the rows as the plans before it leave them,
   * and commits the writes in one batch. Stops at the first call that depends on a row
   * not written yet in a way the batch cannot express (an id it has not got, an answer
   * to read); that call and the ones after it wait for the next group. Never throws.
   */
  private async reconcileGroup(calls: Queued[]): Promise<ReconcileResult[]> {
    const answers: ReconcileResult[] = [];
    const planned: Planned[] = [];
    const pending = new Map<number, ContactRow>();
    const size = { statements: 0, bytes: 0 };
    for (const call of calls) {
      let view: ContactRow[];
      try {
        view = await this.currentRows(call);
      } catch (err) {
        if (planned.length > 0) break; // answered after the batch, in order
        answers.push(failed(call, err));
        continue;
      }
      const next = withPending(view, pending, call.who);
      const plan = planReconciliation(next.rows, call.who, call.limits);
      const owner = next.rows === call.rows ? call.key : ownerKey(next.rows, call.who, newContactObjects(this.env));
      if (next.pending && (isReadOnly(plan) || owner !== call.key || needsPendingId(plan))) break;
      if (isReadOnly(plan)) {
        if (planned.length > 0) break;
        answers.push(this.done(call, plan.outcome, plan, next.rows));
        continue;
      }
      if (owner !== call.key) {
        if (planned.length > 0) break;
        answers.push({
          kind: "reroute",
          ownerKey: owner,
          rows: next.rows,
          d1: call.d1,
          retriesSpent: call.retriesSpent,
        });
        continue;
      }
      const stamp = planStamp(next.rows, call.who, plan.primaryId);
      const commit = { who: call.who, stamp, plan, requestId: call.requestId, limits: call.limits };
      const cost = commitCost(commit);
      if (
        planned.length > 0 &&
        (size.statements + cost.statements > GROUP_LIMITS.statements || size.bytes + cost.bytes > GROUP_LIMITS.bytes)
      ) {
        break;
      }
      size.statements += cost.statements;
      size.bytes += cost.bytes;
      planned.push({ call, commit });
      const inserted = { id: -planned.length, createdAt: `\uffff${String(planned.length).padStart(4, "0")}` };
      for (const row of applyPlan(next.rows, plan, inserted)) pending.set(row.id, row);
    }
    if (planned.length === 0) return answers;
    return [...answers, ...(await this.commitGroup(planned))];
  }

  /** Commits the planned calls in one batch; a guard abort falls back to one call at a time. */
  private async commitGroup(planned: Planned[]): Promise<ReconcileResult[]> {
    const batchUsage = noUsage();
    try {
      const committed = await commitPlans(
        database(meteredD1(this.primary.client(), batchUsage)),
        planned.map((p) => p.commit),
      );
      this.remember(committed.map((c) => c.rows));
      return planned.map(({ call, commit }, i) => {
        // One round trip for the group, counted for each of its calls, with their own statements.
        call.d1.roundTrips += 1;
        call.d1.statements += committed[i]?.statements ?? 0;
        return this.done(call, commit.plan.outcome, commit.plan, committed[i]?.rows ?? []);
      });
    } catch (err) {
      if (err instanceof ClusterChangedError) {
        // Some plan of the group relied on something another object changed: each call
        // on its own now, so that one conflict costs the others nothing but this batch.
        // A group of one had nobody else to blame: that abort was its own first attempt.
        const results: ReconcileResult[] = [];
        for (const { call } of planned) results.push(await this.reconcileAlone(call, planned.length === 1));
        return results;
      }
      const results: ReconcileResult[] = [];
      for (const { call, commit } of planned) results.push(await this.confirm(call, commit.plan, err));
      return results;
    }
  }

  /**
   * One call on its own: read, plan, commit, and after a guard abort read again and
   * re-plan, as long as the request's budget lasts. `aborted`: its own plan has just
   * been aborted, which counts as an attempt.
   */
  private async reconcileAlone(call: Queued, aborted: boolean): Promise<ReconcileResult> {
    if (aborted && !spend(call)) return { kind: "contended", d1: call.d1, retriesSpent: call.retriesSpent };
    let rows: ContactRow[];
    try {
      rows = await readTouchedClusters(this.db(call), call.who, call.limits);
    } catch (err) {
      return failed(call, err);
    }
    for (;;) {
      const plan = planReconciliation(rows, call.who, call.limits);
      if (isReadOnly(plan)) return this.done(call, plan.outcome, plan, rows);
      const owner = ownerKey(rows, call.who, newContactObjects(this.env));
      if (owner !== call.key) {
        return { kind: "reroute", ownerKey: owner, rows, d1: call.d1, retriesSpent: call.retriesSpent };
      }
      const stamp = planStamp(rows, call.who, plan.primaryId);
      const commit = { who: call.who, stamp, plan, requestId: call.requestId, limits: call.limits };
      try {
        const [committed] = await commitPlans(this.db(call), [commit]);
        const after = committed?.rows ?? [];
        this.remember([after]);
        return this.done(call, plan.outcome, plan, after);
      } catch (err) {
        if (!(err instanceof ClusterChangedError)) return this.confirm(call, plan, err);
      }
      // Another object changed what the plan relied on between our read and our write.
      if (!spend(call)) return { kind: "contended", d1: call.d1, retriesSpent: call.retriesSpent };
      try {
        rows = await readTouchedClusters(this.db(call), call.who, call.limits);
      } catch (readErr) {
        return failed(call, readErr);
      }
    }
  }

  /**
   * The answer to `call` from `rows` (the cluster `plan` answers, bounded by the limits,
   * and the fields it left out), with a bookmark covering every commit made here.
   */
  private done(call: Queued, outcome: Outcome, plan: ReconciliationPlan, rows: ContactRow[]): ReconcileResult {
    return {
      kind: "done",
      outcome,
      response: buildIdentifyResponse(clusterOf(rows, plan.answerRoot), call.limits),
      ignored: plan.ignored,
      bookmark: this.primary.bookmark(),
      d1: call.d1,
      retriesSpent: call.retriesSpent,
    };
  }

  /**
   * A commit failed with `err`, which may have happened after D1 committed it (a lost
   * confirmation). A fresh read tells: if the request now changes nothing, it is answered
   * from that read; otherwise it failed, and nothing of it was written (batches are atomic).
   */
  private async confirm(call: Queued, plan: ReconciliationPlan, err: unknown): Promise<ReconcileResult> {
    if (isOverloaded(err)) return failed(call, err);
    try {
      const rows = await readTouchedClusters(this.db(call), call.who, call.limits);
      const fresh = planReconciliation(rows, call.who, call.limits);
      if (isReadOnly(fresh)) return this.done(call, plan.outcome, fresh, rows);
    } catch {
      // The read failed too: report the commit's own error.
    }
    return failed(call, err);
  }
}

/** Spends one retry of the call's request budget, and counts it for the Worker. */
function spend(call: Spent & { budget: Budget }): boolean {
  if (!spendRetry(call.budget)) return false;
  call.retriesSpent += 1;
  return true;
}

/** A storage failure of a call, returned across the RPC boundary (see ReconcileResult). */
function failed(call: Spent, err: unknown): Extract<ReconcileResult, { kind: "failed" }> {
  return {
    kind: "failed",
    transient: isTransient(err),
    overloaded: isOverloaded(err),
    // src/db has already replaced drizzle's wrapper (which quotes the caller's email and
    // phone) with D1's own error, so the message is safe to pass on and log.
    message: String(err),
    d1: call.d1,
    retriesSpent: call.retriesSpent,
  };
}

import { DurableObject } from "cloudflare:workers";
import { type Database, database } from "../db/client";
import { commitCost, commitPlans, type PlannedCommit } from "../db/commit";
import { ClusterChangedError, planStamp } from "../db/guard";
import { meteredD1, noUsage } from "../db/metered";
import { readTouched } from "../db/reads";
import { PrimaryD1 } from "../db/sessions";
import type { Ignored } from "../domain/blocking";
import type { ContactRow, Identifiers, IdentifyResponse } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import {
  applyPlan,
  buildIdentifyResponse,
  clusterOf,
  isReadOnly,
  type Outcome,
  planReconciliation,
  type ReconciliationPlan,
  type SeparatedPair,
  type Touched,
} from "../domain/reconcile";
import { busy, contended, failed, type ObjectAnswer, type Spent, spend } from "./answers";
import { POKE_INTERVAL_MS, pushSetting } from "./dispatcher";
import { type EraseCall, type EraseResult, runErasure } from "./erasure-job";
import { coveredBy, fitsGroup, needsPendingId, pendingInsert, withPending } from "./group-plan";
import { dispatcherStub } from "./placement";
import { Poker, type RunDue } from "./poke";
import { type Budget, isOverloaded } from "./retry";
import { newContactObjects, ownerKey } from "./routing";
import { runUnmerge, type UnmergeCall, type UnmergeResult } from "./unmerge-job";
import { WriteQueue } from "./write-queue";

/** The dispatcher's next run as its latest poke answered, for every object of this isolate. */
const dispatcherRunDue: RunDue = { at: 0 };

/** Clusters read back by recent commits that queued calls may plan on. */
const REMEMBERED_CLUSTERS = 64;

/** One request for the object: who, the rows the caller read, the owner key it routed by. */
export type ReconcileCall = {
  /** `ownerKey(rows, who)`: the name of the object called. */
  key: string;
  who: Identifiers;
  /** The touched clusters as the caller read them. */
  rows: ContactRow[];
  /** The separations between them the caller read with them (see readTouched); none if omitted. */
  separations?: SeparatedPair[];
  /** The request log's id, recorded with the events the commit writes. */
  requestId: string;
  /** What is left of the request's retry budget (see retry.ts). */
  budget: Budget;
  /** The cluster limits of the caller's configuration: one request is planned under one from end to end. */
  limits: ClusterLimits;
};

/** What `reconcile()` answers; a hand-off passes on the rows read here. */
export type ReconcileResult = ObjectAnswer<
  /** `bookmark`: at or after this object's latest commit, which the answer may show. */
  { kind: "done"; outcome: Outcome; response: IdentifyResponse; ignored: Ignored[]; bookmark: string | null },
  { rows: ContactRow[] }
>;

/** A call in the object, with what it has cost so far. */
type Queued = ReconcileCall & Spent & { commitsAtArrival: number };

/**
 * What waits in an object's queue: reconciliations, grouped when they can be, and erasures,
 * alone. Each job answers its own caller through `settle`, typed by its kind, so the queue
 * needs no common answer type; a new kind is one more member here and in runJobs.
 */
type Job =
  | { kind: "reconcile"; call: Queued; settle: (result: ReconcileResult) => void }
  | { kind: "erase"; call: EraseCall & Spent; settle: (result: EraseResult) => void }
  | { kind: "unmerge"; call: UnmergeCall & Spent; settle: (result: UnmergeResult) => void };

/** What the queue hands back for a job: its answer went through the job's own `settle`. */
const SETTLED = true;

/** A queued call planned for the next group commit. */
type Planned = { call: Queued; commit: PlannedCommit };

/**
 * Serialises the writes of one cluster (or, for new customers, of a warm object shared
 * by many). Every write of the service goes through `reconcile()` on the object named
 * by `ownerKey()`; the data itself lives in D1. Calls that wait while a commit is under
 * way are planned together, in order, and committed in one guarded batch.
 */
export class ClusterReconciler extends DurableObject<Env> {
  private readonly queue = new WriteQueue<Job, typeof SETTLED>(
    (jobs) => this.runJobs(jobs).finally(() => this.pokeDispatcher()),
    (job, why) => {
      job.settle(busy(job.call, why));
      return SETTLED;
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

  /**
   * At most one poke of the WebhookDispatcher in flight, and one per POKE_INTERVAL_MS,
   * however many groups commit meanwhile (the dispatcher runs no more often anyway).
   */
  private readonly dispatcher = new Poker(() => dispatcherStub(this.env).poke(), dispatcherRunDue, POKE_INTERVAL_MS);

  /**
   * After a group of writes, committed or not: the WebhookDispatcher may have events to
   * push. Not awaited: callers are answered at once, and delivery never slows a write.
   */
  private pokeDispatcher(): void {
    if (pushSetting(this.env).kind !== "off") this.ctx.waitUntil(this.dispatcher.poke());
  }

  /** Reconciles `call.who` as the owner `call.key` (see ReconcileCall). */
  reconcile(call: ReconcileCall): Promise<ReconcileResult> {
    const queued: Queued = { ...call, commitsAtArrival: this.commits, d1: noUsage(), retriesSpent: 0 };
    return new Promise(
      (settle) => void this.queue.run({ kind: "reconcile", call: queued, settle }, call.budget.deadline),
    );
  }

  /**
   * Erases `call.target` as the owner `call.key` (see erasureOwnerKey and runErasure),
   * queued with this object's reconciliations.
   */
  erase(call: EraseCall): Promise<EraseResult> {
    const queued = { ...call, d1: noUsage(), retriesSpent: 0 };
    return new Promise((settle) => void this.queue.run({ kind: "erase", call: queued, settle }, call.budget.deadline));
  }

  /**
   * Removes bridge `call.bridgeId` from the cluster of `call.id` as the owner `call.key` (see
   * runUnmerge), queued with this object's reconciliations.
   */
  unmerge(call: UnmergeCall): Promise<UnmergeResult> {
    const queued = { ...call, d1: noUsage(), retriesSpent: 0 };
    return new Promise(
      (settle) => void this.queue.run({ kind: "unmerge", call: queued, settle }, call.budget.deadline),
    );
  }

  /** A group of reconciliations, up to the first other job; or that job alone. */
  private async runJobs(jobs: Job[]): Promise<(typeof SETTLED)[]> {
    const [first] = jobs;
    if (first?.kind === "erase") {
      const result = await runErasure(this.jobDb(first.call), this.env, first.call, () => this.primary.bookmark());
      if (result.kind === "done") this.forgetRecent();
      first.settle(result);
      return [SETTLED];
    }
    if (first?.kind === "unmerge") {
      const result = await runUnmerge(this.jobDb(first.call), this.env, first.call, () => this.primary.bookmark());
      if (result.kind === "done") this.forgetRecent();
      first.settle(result);
      return [SETTLED];
    }
    const group: Extract<Job, { kind: "reconcile" }>[] = [];
    for (const job of jobs) {
      if (job.kind !== "reconcile") break;
      group.push(job);
    }
    const results = await this.reconcileGroup(group.map((job) => job.call));
    return results.map((result, i) => {
      group[i]?.settle(result);
      return SETTLED;
    });
  }

  /** The primary, metered into what `call` has spent. */
  private jobDb(call: Spent): Database {
    return database(meteredD1(this.primary.client(), call.d1));
  }

  /** After an erasure or an unmerge: the rows of earlier commits no longer stand for anything a queued call may plan on. */
  private forgetRecent(): void {
    this.commits += 1;
    this.recent = [];
  }

  private remember(clusters: ContactRow[][]): void {
    this.commits += 1;
    const commit = this.commits;
    this.recent = [...this.recent, ...clusters.map((cluster) => ({ commit, cluster }))].slice(-REMEMBERED_CLUSTERS);
  }

  /**
   * The freshest rows to plan `call` on: the caller's, or a recent commit's, or a fresh read;
   * with the separations read with them (the caller's, unless read afresh). A separation
   * written since a read is caught by the guard of the write.
   */
  private async currentRows(call: Queued): Promise<Touched> {
    const caller = { rows: call.rows, separations: call.separations ?? [] };
    if (this.commits === call.commitsAtArrival) return caller;
    // Only clusters committed after the call arrived, so after the caller's read: an older
    // one may hold values or contacts that an erasure (through another object) has since
    // removed, and it would answer with them.
    const since = this.recent.filter((entry) => entry.commit > call.commitsAtArrival).map((entry) => entry.cluster);
    const covered = coveredBy(since, call.rows, call.who);
    if (covered) return { rows: covered, separations: caller.separations };
    return readTouched(this.jobDb(call), call.who, call.limits);
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
      let view: Touched;
      try {
        view = await this.currentRows(call);
      } catch (err) {
        if (planned.length > 0) break; // answered after the batch, in order
        answers.push(failed(call, err));
        continue;
      }
      const next = withPending(view.rows, pending, call.who);
      const plan = planReconciliation(next.rows, call.who, call.limits, view.separations);
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
      if (!fitsGroup(size, cost, planned.length === 0)) break;
      size.statements += cost.statements;
      size.bytes += cost.bytes;
      planned.push({ call, commit });
      for (const row of applyPlan(next.rows, plan, pendingInsert(planned.length))) pending.set(row.id, row);
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
    if (aborted && !spend(call)) return contended(call);
    let rows: ContactRow[];
    let separations: SeparatedPair[];
    try {
      ({ rows, separations } = await readTouched(this.jobDb(call), call.who, call.limits));
    } catch (err) {
      return failed(call, err);
    }
    for (;;) {
      const plan = planReconciliation(rows, call.who, call.limits, separations);
      if (isReadOnly(plan)) return this.done(call, plan.outcome, plan, rows);
      const owner = ownerKey(rows, call.who, newContactObjects(this.env));
      if (owner !== call.key) {
        return { kind: "reroute", ownerKey: owner, rows, d1: call.d1, retriesSpent: call.retriesSpent };
      }
      const stamp = planStamp(rows, call.who, plan.primaryId);
      const commit = { who: call.who, stamp, plan, requestId: call.requestId, limits: call.limits };
      try {
        const [committed] = await commitPlans(this.jobDb(call), [commit]);
        const after = committed?.rows ?? [];
        this.remember([after]);
        return this.done(call, plan.outcome, plan, after);
      } catch (err) {
        if (!(err instanceof ClusterChangedError)) return this.confirm(call, plan, err);
      }
      // Another object changed what the plan relied on between our read and our write.
      if (!spend(call)) return contended(call);
      try {
        ({ rows, separations } = await readTouched(this.jobDb(call), call.who, call.limits));
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
      const { rows, separations } = await readTouched(this.jobDb(call), call.who, call.limits);
      const fresh = planReconciliation(rows, call.who, call.limits, separations);
      if (isReadOnly(fresh)) return this.done(call, plan.outcome, fresh, rows);
    } catch {
      // The read failed too: report the commit's own error.
    }
    return failed(call, err);
  }
}

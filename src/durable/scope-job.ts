import type { Database } from "../db/client";
import { commitErasure, erasureStamp, readErasureScope } from "../db/erasure";
import { ClusterChangedError } from "../db/guard";
import type { ErasurePlan, ErasureTarget } from "../domain/erasure";
import { contended, failed, type NotDone, type Spent, spend } from "./answers";
import type { Budget } from "./retry";
import { erasureOwnerKey, newContactObjects } from "./routing";

/** What an erasure or an unmerge reads: every row of its scope, soft-deleted ones too, and their bridges. */
export type Scope = Awaited<ReturnType<typeof readErasureScope>>;

/** A job on a scope, as the object runs it: its owner key, its request and what it may still spend. */
export type ScopeCall = Spent & { key: string; requestId: string; budget: Budget };

/**
 * What a job makes of the scope it read: an answer given without writing, or the plan that
 * re-forms its clusters, with `landed` telling from a fresh read whether that plan's effect is
 * there (to tell a lost confirmation from a failed write).
 */
export type ScopeStep<Answer> = { answer: Answer } | { plan: ErasurePlan; landed: (after: Scope) => boolean };

/**
 * The one way clusters are re-formed, for erasure and unmerge alike: read the scope of
 * `target`, let `step` plan over it, hand off if the scope now belongs to another object,
 * commit the plan as one guarded batch, and read and plan again when another object changed
 * the scope meanwhile, while the request's budget lasts. `done` makes the answer of a commit.
 */
export async function runOverScope<Answer extends { kind: string }, Done extends { kind: string }>(
  db: Database,
  env: Env,
  call: ScopeCall,
  target: ErasureTarget,
  step: (scope: Scope) => ScopeStep<Answer>,
  done: (plan: ErasurePlan) => Done,
): Promise<Spent & (Answer | Done | NotDone)> {
  const spent = () => ({ d1: call.d1, retriesSpent: call.retriesSpent });
  for (;;) {
    let scope: Scope;
    try {
      scope = await readErasureScope(db, target);
    } catch (err) {
      return failed(call, err);
    }
    const planned = step(scope);
    if ("answer" in planned) return { ...planned.answer, ...spent() };
    const owner = erasureOwnerKey(scope.rows, target, newContactObjects(env));
    if (owner !== call.key) return { kind: "reroute", ownerKey: owner, ...spent() };
    try {
      await commitErasure(db, target, erasureStamp(scope.rows, scope.bridges), planned.plan, call.requestId);
      return { ...done(planned.plan), ...spent() };
    } catch (err) {
      if (!(err instanceof ClusterChangedError)) {
        const confirmed = await readErasureScope(db, target).then(planned.landed, () => false);
        return failed(call, confirmed ? new Error("write confirmation lost") : err);
      }
      if (!spend(call)) return contended(call);
    }
  }
}

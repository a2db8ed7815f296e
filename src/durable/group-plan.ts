import type { ContactRow, Identifiers } from "../domain/contact";
import { type ReconciliationPlan, rootOf } from "../domain/reconcile";

// How an object plans the calls waiting for one group commit: pure functions over the rows,
// so that what a group may share is tested apart from the object (test/unit/group-plan.test.ts).

/**
 * Bounds of one group commit. D1 caps a statement at 100 bound parameters (each of ours
 * binds a handful, however many share a batch) and, on the free plan, an invocation at
 * 50 queries; a batch's SQL is kept well under D1's 100 KB statement size.
 */
const GROUP_LIMITS = { statements: 50, bytes: 64 * 1024 } as const;

/** What a group's batch holds so far, or what one commit adds to it. */
export type BatchSize = { statements: number; bytes: number };

/** True when a commit of `cost` still fits a batch already holding `size` (the first always does). */
export function fitsGroup(size: BatchSize, cost: BatchSize, first: boolean): boolean {
  return (
    first ||
    (size.statements + cost.statements <= GROUP_LIMITS.statements && size.bytes + cost.bytes <= GROUP_LIMITS.bytes)
  );
}

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
export function coveredBy(recent: readonly ContactRow[][], rows: ContactRow[], who: Identifiers): ContactRow[] | null {
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
export function withPending(
  view: ContactRow[],
  pending: ReadonlyMap<number, ContactRow>,
  who: Identifiers,
): { rows: ContactRow[]; pending: boolean } {
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
export function needsPendingId(plan: ReconciliationPlan): boolean {
  return (plan.primaryId ?? 0) < 0 || plan.absorb.some((root) => root < 0);
}

/**
 * The stand-in for the contact the `n`th plan of a group inserts (1-based): a negative id
 * nothing stored has, and a `createdAt` after every stored one, so it is the youngest.
 */
export function pendingInsert(n: number): { id: number; createdAt: string } {
  return { id: -n, createdAt: `\uffff${String(n).padStart(4, "0")}` };
}

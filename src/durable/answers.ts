import type { D1Usage } from "../db/metered";
import { type Budget, isOverloaded, isTransient, spendRetry } from "./retry";
import type { Refusal } from "./write-queue";

/** What a call has cost in the object so far, whatever its kind. */
export type Spent = { d1: D1Usage; retriesSpent: number };

/**
 * The answers an object gives to any call it did not finish, declared once for every job
 * kind (reconciliation, erasure, unmerge). `Reroute` is what a hand-off carries besides the
 * owner's key (a reconciliation passes on the rows it read).
 */
export type NotDone<Reroute = unknown> =
  /** The clusters now belong to another object: ask it. */
  | ({ kind: "reroute"; ownerKey: string } & Reroute)
  /** The clusters kept changing under every attempt the budget allowed. */
  | { kind: "contended" }
  /** Refused before anything was written: the queue was full, or the call waited past its deadline. */
  | { kind: "busy"; why: Refusal }
  /**
   * Storage failed. Returned, not thrown: an error thrown across the RPC boundary is
   * reported by the runtime as an uncaught exception of the object, stack and all.
   */
  | { kind: "failed"; transient: boolean; overloaded: boolean; message: string };

/** An object's answer to one call: its own final answers (`Done`), or one of NotDone, with its cost. */
export type ObjectAnswer<Done, Reroute = unknown> = Spent & (Done | NotDone<Reroute>);

/** The call ran out of its budget on clusters that kept changing. */
export function contended(call: Spent): Spent & { kind: "contended" } {
  return { kind: "contended", d1: call.d1, retriesSpent: call.retriesSpent };
}

/** The call was refused before anything was written. */
export function busy(call: Spent, why: Refusal): Spent & { kind: "busy"; why: Refusal } {
  return { kind: "busy", why, d1: call.d1, retriesSpent: call.retriesSpent };
}

/** A storage failure of a call, returned across the RPC boundary (see NotDone). */
export function failed(call: Spent, err: unknown): Spent & Extract<NotDone, { kind: "failed" }> {
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

/** Spends one retry of the call's request budget, and counts it for the Worker. */
export function spend(call: Spent & { budget: Budget }): boolean {
  if (!spendRetry(call.budget)) return false;
  call.retriesSpent += 1;
  return true;
}

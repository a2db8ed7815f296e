import { ERRORS } from "../contract/errors";
import { addUsage, type D1Usage, noUsage } from "../db/metered";
import type { NotDone, Spent } from "../durable/answers";
import { reconcilerStub } from "../durable/placement";
import type { ClusterReconciler } from "../durable/reconciler";
import { type Budget, backoff, isTransient, spendRetry } from "../durable/retry";
import { type HttpError, serviceUnavailable } from "../errors";

/**
 * Logs what failed (never the caller's email or phone) and gives the 503 to answer.
 * src/db has already replaced drizzle's wrapper (which quotes the caller's email and
 * phone) with D1's own error, so the message is safe to log.
 */
export function unavailable(error: string, message = "storage or coordination failed"): HttpError {
  console.error(JSON.stringify({ level: "error", message, error }));
  return serviceUnavailable();
}

/** The 503 of a request that ran out of its budget on a busy cluster, or found its object's queue full. */
export const tooBusy = () => serviceUnavailable(ERRORS.service_unavailable.variants.busy);

/**
 * After the call to an object threw (it was reset, the network lost it: nothing ran, or
 * a guarded batch that a replay finds done): waits to retry it if the error is transient
 * and the budget allows.
 * @throws HttpError 503 otherwise, logged under `failure`.
 */
export async function retryThrownCall(err: unknown, budget: Budget, retry: number, failure: string): Promise<void> {
  if (!isTransient(err) || !spendRetry(budget)) throw unavailable(String(err), failure);
  await backoff(budget, retry);
}

/**
 * The object to call next after an answer that did not finish the call (NotDone): another after a hand-off, the same after a
 * backoff for a transient storage failure; each out of `budget`.
 * @throws HttpError 503 when the budget is spent, the cluster is too busy, or storage failed for good.
 */
export async function nextOwner(
  answer: NotDone,
  key: string,
  budget: Budget,
  retry: number,
  failure: string,
): Promise<string> {
  switch (answer.kind) {
    case "reroute":
      if (!spendRetry(budget)) throw tooBusy();
      return answer.ownerKey;
    case "failed":
      if (!answer.transient || !spendRetry(budget)) throw unavailable(answer.message, failure);
      await backoff(budget, retry);
      return key;
    case "contended":
    case "busy":
      throw tooBusy();
  }
}

/** The kinds of NotDone: an object's answers that leave the call unfinished. */
const NOT_DONE = new Set<string>(["reroute", "contended", "busy", "failed"]);

function isDetour<TDone extends { kind: string }>(answer: TDone | NotDone): answer is NotDone {
  return NOT_DONE.has(answer.kind);
}

/**
 * Calls the ClusterReconciler named `key` with `ask`, following hand-offs and retrying
 * transient failures out of `budget`, until it gives a final answer (`TDone`, not NotDone).
 * Returns that answer, and the D1 work and object calls spent on the way. `TDone` must not
 * reuse a kind of NotDone.
 * @throws HttpError 503 when storage or coordination still fails within the budget (logged under `failure`).
 */
export async function askOwner<TDone extends { kind: string }>(
  env: Env,
  key: string,
  budget: Budget,
  failure: string,
  ask: (stub: DurableObjectStub<ClusterReconciler>, key: string) => Promise<Spent & (TDone | NotDone)>,
): Promise<{ answer: TDone; d1: D1Usage; objectCalls: number }> {
  let d1 = noUsage();
  let owner = key;
  for (let retry = 1; ; retry++) {
    // Outside the try: a misconfigured location hint fails closed with a 500 (see identify.ts).
    const stub = reconcilerStub(env, owner);
    let answer: Spent & (TDone | NotDone);
    try {
      answer = await ask(stub, owner);
    } catch (err) {
      await retryThrownCall(err, budget, retry, failure);
      continue;
    }
    d1 = addUsage(d1, answer.d1);
    budget.retriesLeft -= answer.retriesSpent;
    if (isDetour(answer)) owner = await nextOwner(answer, owner, budget, retry, failure);
    else return { answer, d1, objectCalls: retry };
  }
}

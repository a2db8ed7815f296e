import { ERRORS } from "../contract/errors";
import type { NotDone } from "../durable/answers";
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

/**
 * The one retry budget of a request, for every retry it makes anywhere: a transient
 * D1 or object failure, a plan re-made after its guard aborted, a hand-off to the
 * object a merge moved the cluster to. The Worker is the one layer that retries
 * failures; an object re-plans within what the budget leaves and reports what it spent.
 */
export const REQUEST_BUDGET = {
  /** Attempts beyond the first, all kinds together. */
  retries: 8,
  /** Time from the start of the request after which nothing new is started. */
  ms: 2_000,
} as const;

/** Backoff before the n-th retry: full jitter over 10 ms x 2^n, at most 100 ms. */
const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 100;

/** What is left of a request's budget: plain data, so it crosses the object's RPC boundary. */
export type Budget = { retriesLeft: number; deadline: number };

/** A fresh budget for a request starting at `now`: REQUEST_BUDGET's retries and deadline. */
export function newBudget(now = Date.now()): Budget {
  return { retriesLeft: REQUEST_BUDGET.retries, deadline: now + REQUEST_BUDGET.ms };
}

/** Spends one retry if any is left and the deadline has not passed. */
export function spendRetry(budget: Budget, now = Date.now()): boolean {
  if (budget.retriesLeft <= 0 || now >= budget.deadline) return false;
  budget.retriesLeft -= 1;
  return true;
}

// Messages D1 and the Durable Object runtime give for faults that a retry can cure.
const TRANSIENT =
  /network connection lost|transient|temporar|internal error|timed? ?out|reset because|SQLITE_BUSY|D1_RESET_DO|try again/i;
// ... and for a service that is overloaded: retrying only adds to its load.
const OVERLOADED = /overloaded|too many requests queued|exceeded its (cpu|memory)|rate limit/i;

/** True for errors that say the service is overloaded (flag or message). */
export function isOverloaded(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as Error & { overloaded?: unknown }).overloaded === true || OVERLOADED.test(e.message)) return true;
  }
  return false;
}

/**
 * True for errors the platform marks or words as transient, and never for an
 * overloaded service. Durable Object errors carry `retryable`; D1 errors only say so
 * in their message.
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error) || isOverloaded(err)) return false;
  if ((err as Error & { retryable?: unknown }).retryable === true) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (TRANSIENT.test(e.message)) return true;
  }
  return false;
}

/** Waits a jittered backoff before retry number `retry` (1-based), never past the deadline. */
export async function backoff(budget: Budget, retry: number): Promise<void> {
  const ceiling = Math.min(BASE_DELAY_MS * 2 ** retry, MAX_DELAY_MS, Math.max(0, budget.deadline - Date.now()));
  const delay = Math.random() * ceiling;
  await new Promise((resolve) => setTimeout(resolve, delay));
}

/**
 * Runs an idempotent operation, retrying transient failures with full-jitter
 * exponential backoff while `budget` lasts. Our writes are idempotent because every
 * batch is guarded: replaying one that did commit finds the clusters changed.
 */
export async function withRetries<T>(operation: () => Promise<T>, budget: Budget = newBudget()): Promise<T> {
  for (let retry = 1; ; retry++) {
    try {
      return await operation();
    } catch (err) {
      if (!isTransient(err) || !spendRetry(budget)) throw err;
      await backoff(budget, retry);
    }
  }
}

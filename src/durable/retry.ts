/** Attempts of one idempotent storage or object call before the request answers 503. */
export const MAX_TRANSIENT_ATTEMPTS = 3;
const BASE_DELAY_MS = 25;

// Messages D1 and the Durable Object runtime give for faults that a retry can cure.
const TRANSIENT =
  /network connection lost|transient|temporar|overloaded|internal error|timed? ?out|reset because|SQLITE_BUSY|D1_RESET_DO|try again/i;

/**
 * True for errors the platform marks or words as transient. Durable Object
 * errors carry `retryable`; D1 errors only say so in their message.
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const flags = err as Error & { retryable?: unknown; overloaded?: unknown };
  if (flags.overloaded === true) return false; // retrying an overloaded object only adds load
  if (flags.retryable === true) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (TRANSIENT.test(e.message)) return true;
  }
  return false;
}

/**
 * Runs an idempotent operation, retrying transient failures with full-jitter
 * exponential backoff. Our writes are idempotent because every batch is guarded:
 * replaying one that did commit finds the clusters changed and re-plans to nothing.
 */
export async function withRetries<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (attempt >= MAX_TRANSIENT_ATTEMPTS || !isTransient(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BASE_DELAY_MS * 2 ** attempt));
    }
  }
}

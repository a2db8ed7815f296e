import { MAX_DELIVERY_EVENTS } from "../contract/delivery";
import { serializeEvent } from "../contract/events";
import type { Database } from "../db/client";
import { readEventsAfter } from "../db/events";
import type { WebhookConfig } from "../webhooks/config";
import { signDelivery } from "../webhooks/sign";

/** At most this many events per delivery (the contract's batch size). */
export const MAX_BATCH_EVENTS = MAX_DELIVERY_EVENTS;
/** A receiver must answer within this long, or the attempt failed (the contract's 10 s). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Retries are never further apart than this (the contract's hour). */
const MAX_BACKOFF_MS = 60 * 60 * 1000;
/** The first retry's ceiling when `WEBHOOK_BACKOFF_BASE_MS` is unset; each further retry doubles it. */
export const DEFAULT_BACKOFF_BASE_MS = 1000;

/** A delivery sent and not yet acknowledged: retried as it is, under the same `webhook-id`. */
export type PendingDelivery = {
  webhookId: string;
  /** The last event of the batch: acknowledged, it becomes the cursor. */
  lastEventId: number;
  events: number;
  /** The body as first sent, so that every retry sends the same bytes. */
  body: string;
  /** Failed attempts so far. */
  attempts: number;
  /** Not before this time (epoch ms). */
  nextAttemptAt: number;
};

/** What the dispatcher keeps in its storage, as one value written at once. */
export type DeliveryState = {
  /** The last acknowledged event's id (0: none yet): delivery resumes after it. */
  acknowledged: number;
  acknowledgedAt: string | null;
  pending: PendingDelivery | null;
  lastError: { at: string; message: string } | null;
};

export const NO_DELIVERY: DeliveryState = { acknowledged: 0, acknowledgedAt: null, pending: null, lastError: null };

/**
 * What one step did: a batch of `events` acknowledged; nothing to send; an attempt failed, retried not
 * before `until`; or no attempt, because an earlier failure's retry is not due before `until`.
 */
export type Step =
  | { kind: "acknowledged"; events: number }
  | { kind: "idle" }
  | { kind: "failed"; until: number }
  | { kind: "waiting"; until: number };

/** What a step needs: the database, the durable state and where to save it, the receiver, the clock. */
export type StepDeps = {
  db: Database;
  config: WebhookConfig;
  state: DeliveryState;
  save: (state: DeliveryState) => Promise<void>;
  /** Posts one attempt; the dispatcher's is `fetch` with a 10 s timeout. */
  send: (request: Request) => Promise<Response>;
  backoffBaseMs: number;
  now?: () => number;
  random?: () => number;
};

/**
 * Exponential backoff with full jitter: the delay before retry `attempt` (1 for the first)
 * is uniform between 0 and `base * 2^(attempt - 1)`, that ceiling capped at an hour, so that
 * retries spread out instead of hammering a receiver that is down.
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

function describeFailure(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `the receiver did not answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  }
  return `the receiver could not be reached: ${err instanceof Error ? err.message : String(err)}`;
}

/** The next batch after the cursor, as a delivery: a new `webhook-id`, saved before it is sent. */
async function nextBatch(db: Database, acknowledged: number, now: number): Promise<PendingDelivery | null> {
  const rows = await readEventsAfter(db, acknowledged, MAX_BATCH_EVENTS);
  const last = rows.at(-1);
  if (last === undefined) return null;
  return {
    webhookId: `msg_${crypto.randomUUID()}`,
    lastEventId: last.id,
    events: rows.length,
    body: JSON.stringify({ events: rows.map(serializeEvent) }),
    attempts: 0,
    nextAttemptAt: now,
  };
}

/**
 * One step of delivery: sends the pending batch (or the next one after the cursor, saved
 * first so that a retry after any crash reuses its `webhook-id`), and on a 2xx advances
 * the cursor; anything else (a status, no answer within 10 s, no connection, a redirect)
 * schedules a retry of the same batch. Nothing later is sent before it is acknowledged.
 * Each change of state is saved before the step answers. Storage errors are thrown.
 */
export async function deliverStep(deps: StepDeps): Promise<{ step: Step; state: DeliveryState }> {
  const now = deps.now ?? Date.now;
  let state = deps.state;
  const waiting = state.pending;
  if (waiting !== null && waiting.nextAttemptAt > now())
    return { step: { kind: "waiting", until: waiting.nextAttemptAt }, state };
  const pending = waiting ?? (await nextBatch(deps.db, state.acknowledged, now()));
  if (pending === null) return { step: { kind: "idle" }, state };
  if (waiting === null) {
    state = { ...state, pending };
    await deps.save(state);
  }

  const at = new Date(now());
  let failure: string | undefined;
  try {
    const headers = await signDelivery(deps.config.key, pending.webhookId, at, pending.body);
    const response = await deps.send(
      new Request(deps.config.url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: pending.body,
        // A redirect is no acknowledgement: the signed body is never re-posted elsewhere.
        redirect: "manual",
      }),
    );
    // Only the status matters; the body is not read.
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299) failure = `the receiver answered ${response.status}`;
  } catch (err) {
    failure = describeFailure(err);
  }

  if (failure === undefined) {
    state = {
      ...state,
      acknowledged: pending.lastEventId,
      acknowledgedAt: new Date(now()).toISOString(),
      pending: null,
    };
    await deps.save(state);
    return { step: { kind: "acknowledged", events: pending.events }, state };
  }
  const attempts = pending.attempts + 1;
  const until = now() + backoffDelay(attempts, deps.backoffBaseMs, deps.random);
  state = {
    ...state,
    pending: { ...pending, attempts, nextAttemptAt: until },
    lastError: { at: at.toISOString(), message: failure },
  };
  await deps.save(state);
  return { step: { kind: "failed", until }, state };
}

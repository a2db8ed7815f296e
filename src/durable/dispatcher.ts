import { DurableObject } from "cloudflare:workers";
import { encodeCursor } from "../contract/cursor";
import type { DeliveryStatus } from "../contract/delivery";
import { database } from "../db/client";
import { countEventsAfter } from "../db/events";
import { parseWebhookConfig, type WebhookConfig } from "../webhooks/config";
import {
  DEFAULT_BACKOFF_BASE_MS,
  DELIVERY_TIMEOUT_MS,
  type DeliveryState,
  deliverStep,
  MAX_BATCH_EVENTS,
  NO_DELIVERY,
  type PendingDelivery,
} from "./delivery";

/** The one storage key: the whole state is written at once, so it is never half updated. */
const STATE_KEY = "delivery";
/** The alarm that runs whatever happens, so that no event waits on a poke being received. */
const SAFETY_NET_MS = 60_000;
/**
 * Runs start at most this often: the events of the commits in between travel in one batch,
 * so under load the dispatcher makes a few deliveries a second, not one per commit.
 */
const LINGER_MS = 500;
/** Writers poke at most this often each (src/durable/poke.ts): as often as runs may start. */
export const POKE_INTERVAL_MS = LINGER_MS;
/** Batches per alarm run; a backlog goes on in the next run, so one run never grows long. */
const MAX_STEPS_PER_RUN = 50;
/** After a storage failure of its own (D1, the object's storage), the dispatcher tries again after this. */
const STORAGE_RETRY_MS = 10_000;

/** Push as configured: off (no `WEBHOOK_URL`), on, or misconfigured (delivery stops, nothing else). */
export type PushSetting =
  | { kind: "off" }
  | { kind: "on"; config: WebhookConfig; backoffBaseMs: number; safetyNetMs: number }
  | { kind: "misconfigured"; message: string };

// Parsed once per isolate per value, as src/config.ts does for the merge protection.
let cached: { key: string; setting: PushSetting } | undefined;

/** A positive whole number of milliseconds from a development variable, else `fallback`. */
function milliseconds(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text !== undefined && text !== "" && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/**
 * The push setting of `WEBHOOK_URL` and `WEBHOOK_SECRET`, with the timings that only tests
 * and development shorten (`WEBHOOK_BACKOFF_BASE_MS`, `WEBHOOK_SAFETY_NET_MS`); never throws.
 */
export function pushSetting(env: Env): PushSetting {
  const key = JSON.stringify([
    env.WEBHOOK_URL,
    env.WEBHOOK_SECRET,
    env.WEBHOOK_BACKOFF_BASE_MS,
    env.WEBHOOK_SAFETY_NET_MS,
  ]);
  if (cached?.key !== key) {
    let setting: PushSetting;
    try {
      const config = parseWebhookConfig(env.WEBHOOK_URL, env.WEBHOOK_SECRET);
      setting = config
        ? {
            kind: "on",
            config,
            backoffBaseMs: milliseconds(env.WEBHOOK_BACKOFF_BASE_MS, DEFAULT_BACKOFF_BASE_MS),
            safetyNetMs: milliseconds(env.WEBHOOK_SAFETY_NET_MS, SAFETY_NET_MS),
          }
        : { kind: "off" };
    } catch (err) {
      setting = { kind: "misconfigured", message: err instanceof Error ? err.message : String(err) };
    }
    cached = { key, setting };
  }
  return cached.setting;
}

const safetyNet = (setting: PushSetting) => (setting.kind === "on" ? setting.safetyNetMs : SAFETY_NET_MS);

function log(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ webhook: "delivery", ...fields }));
}

/**
 * Pushes the change feed to `WEBHOOK_URL`, strictly in order: one instance (see
 * dispatcherStub), driven by its alarm. Each run sends the batch after the durably stored
 * cursor, advances it on a 2xx, and otherwise schedules a retry of the same batch with
 * backoff (src/durable/delivery.ts). Writers poke it after a commit; a run every minute
 * anyway makes delivery independent of any poke arriving.
 */
export class WebhookDispatcher extends DurableObject<Env> {
  private state: DeliveryState = NO_DELIVERY;
  /** When the latest run started (epoch ms; 0 before the first in this instance). */
  private lastRunAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<DeliveryState>(STATE_KEY)) ?? NO_DELIVERY;
    });
  }

  /**
   * New events may have committed: run soon, but no sooner than LINGER_MS after the last
   * run started. A retry's backoff still stands, and an alarm already due sooner is kept.
   * Answers when the next run is due: writers need not poke before it (src/durable/poke.ts).
   * Cheap (no I/O but the alarm's), as group commits call it.
   */
  async poke(): Promise<number> {
    if (pushSetting(this.env).kind === "off") return 0;
    const due = Math.max(Date.now(), this.lastRunAt + LINGER_MS, this.state.pending?.nextAttemptAt ?? 0);
    await this.wakeBy(due);
    return (await this.ctx.storage.getAlarm()) ?? due;
  }

  /** The delivery's state for `GET /events/delivery`; also re-arms the alarm if it was lost. */
  async status(): Promise<DeliveryStatus> {
    const setting = pushSetting(this.env);
    if (setting.kind === "misconfigured") await this.noteMisconfigured(setting.message);
    const pending = await countEventsAfter(database(this.env.DB), this.state.acknowledged);
    if (setting.kind !== "off" && pending > 0) await this.wakeBy(Date.now() + safetyNet(setting));
    const alarm = await this.ctx.storage.getAlarm();
    const { acknowledged, acknowledgedAt, lastError } = this.state;
    const retry: PendingDelivery | null = this.state.pending;
    const due = setting.kind === "off" || pending === 0 ? null : (retry?.nextAttemptAt ?? alarm ?? Date.now());
    return {
      state:
        setting.kind !== "on"
          ? setting.kind
          : pending === 0
            ? "idle"
            : retry !== null && retry.attempts > 0
              ? "retrying"
              : "delivering",
      origin: setting.kind === "on" ? setting.config.url.origin : null,
      acknowledged: acknowledged === 0 ? null : encodeCursor(acknowledged),
      acknowledgedAt,
      pending,
      lastError,
      nextAttemptAt: due === null ? null : new Date(due).toISOString(),
    };
  }

  override async alarm(): Promise<void> {
    const setting = pushSetting(this.env);
    if (setting.kind === "off") return;
    if (setting.kind === "misconfigured") {
      await this.noteMisconfigured(setting.message);
      log({ outcome: "stopped", error: setting.message });
      await this.wakeBy(Date.now() + SAFETY_NET_MS);
      return;
    }
    this.lastRunAt = Date.now();
    // Armed first: if this process dies mid-run, the next run is already scheduled.
    await this.wakeBy(Date.now() + setting.safetyNetMs);
    try {
      await this.run(setting);
    } catch (err) {
      // D1 or this object's storage failed: nothing was acknowledged that was not saved.
      log({ outcome: "storage_failed", error: String(err) });
      await this.wakeBy(Date.now() + STORAGE_RETRY_MS);
    }
  }

  private async run({ config, backoffBaseMs, safetyNetMs }: PushSetting & { kind: "on" }): Promise<void> {
    const db = database(this.env.DB);
    for (let steps = 0; steps < MAX_STEPS_PER_RUN; steps++) {
      const { step, state } = await deliverStep({
        db,
        config,
        state: this.state,
        backoffBaseMs,
        save: (next) => this.ctx.storage.put(STATE_KEY, next),
        send: (request) => fetch(request, { signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) }),
      });
      this.state = state;
      // A full batch: more are waiting. A short one: caught up; the commits made since
      // poked, and their run starts LINGER_MS after this one did.
      if (step.kind === "acknowledged" && step.events === MAX_BATCH_EVENTS) continue;
      if (step.kind === "acknowledged") return this.wakeBy(Date.now() + safetyNetMs);
      if (step.kind === "idle") return this.wakeBy(Date.now() + safetyNetMs);
      if (step.kind === "failed") {
        const { pending, lastError } = state;
        log({
          outcome: "failed",
          webhookId: pending?.webhookId,
          events: pending?.events,
          attempts: pending?.attempts,
          error: lastError?.message,
          nextAttemptAt: new Date(step.until).toISOString(),
        });
      }
      // An alarm set sooner (a poke) only finds the retry not yet due, and re-arms for it.
      return this.wakeBy(step.until);
    }
    // A backlog: go on in a fresh run.
    await this.wakeBy(Date.now());
  }

  /** Sets the alarm to `time` unless one is already set sooner. */
  private async wakeBy(time: number): Promise<void> {
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > time) await this.ctx.storage.setAlarm(time);
  }

  private async noteMisconfigured(message: string): Promise<void> {
    if (this.state.lastError?.message === message) return;
    this.state = { ...this.state, lastError: { at: new Date().toISOString(), message } };
    await this.ctx.storage.put(STATE_KEY, this.state);
  }
}

import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { decodeCursor } from "../../src/contract/cursor";
import type { ContactEvent } from "../../src/contract/events";
import { database } from "../../src/db/client";
import {
  backoffDelay,
  type DeliveryState,
  deliverStep,
  MAX_BATCH_EVENTS,
  NO_DELIVERY,
  type StepDeps,
} from "../../src/durable/delivery";
import { parseWebhookConfig } from "../../src/webhooks/config";

// The delivery step of the WebhookDispatcher on real D1 events, with a scripted receiver in
// place of the network: test/node/webhooks.test.ts drives the whole object against a real one.
const SECRET = `whsec_${btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i + 1)))}`;
const parsed = parseWebhookConfig("https://hooks.example.com/identity?src=test", SECRET);
if (parsed === undefined) throw new Error("no webhook config");
const config = parsed;
const verifier = new Webhook(SECRET);

/** Stores `count` events after the newest (ids only, as the writes store them); answers the first new id. */
async function storeEvents(count: number): Promise<number> {
  const before = await env.DB.prepare("SELECT coalesce(max(id), 0) AS id FROM contact_events").first<{ id: number }>();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO contact_events (kind, primaryContactId, contactIds, requestId)
     SELECT 'created', 1000 + i, json_array(1000 + i), 'req-' || i FROM n`,
  )
    .bind(count)
    .run();
  return (before?.id ?? 0) + 1;
}

type Received = { headers: Record<string, string>; events: ContactEvent[]; body: string };

/** A receiver that answers `statuses` in turn (then 200), or throws what a status slot holds. */
function scripted(statuses: (number | Error)[]) {
  const received: Received[] = [];
  const send = async (request: Request): Promise<Response> => {
    const body = await request.text();
    const headers = Object.fromEntries(request.headers);
    received.push({ headers, body, events: (JSON.parse(body) as { events: ContactEvent[] }).events });
    const next = statuses.shift() ?? 200;
    if (next instanceof Error) throw next;
    return new Response(null, { status: next });
  };
  return { received, send };
}

function deps(state: DeliveryState, send: StepDeps["send"], now = Date.now()): StepDeps & { saved: DeliveryState[] } {
  const saved: DeliveryState[] = [];
  return {
    db: database(env.DB),
    config,
    state,
    save: async (next) => {
      saved.push(next);
    },
    send,
    backoffBaseMs: 1000,
    now: () => now,
    random: () => 0.5,
    saved,
  };
}

const eventIds = (received: Received) => received.events.map((event) => decodeCursor(event.id));

describe("deliverStep", () => {
  it("sends the events after the cursor in feed order, at most 100, signed; a 2xx advances the cursor", async () => {
    const first = await storeEvents(130);
    const receiver = scripted([]);
    const start: DeliveryState = { ...NO_DELIVERY, acknowledged: first - 1 };
    const one = await deliverStep(deps(start, receiver.send));
    expect(one.step).toEqual({ kind: "acknowledged", events: 100 });
    const [batch] = receiver.received;
    expect(batch?.events).toHaveLength(MAX_BATCH_EVENTS);
    expect(batch && eventIds(batch)).toEqual(Array.from({ length: 100 }, (_, i) => first + i));
    expect(batch?.events[0]).toMatchObject({ kind: "created", primaryContactId: 1001, contactIds: [1001] });
    expect(batch && verifier.verify(batch.body, batch.headers)).toEqual({ events: batch?.events });
    expect(batch?.headers["content-type"]).toBe("application/json");
    expect(one.state).toMatchObject({ acknowledged: first + 99, pending: null });

    const two = await deliverStep(deps(one.state, receiver.send));
    expect(two.step.kind).toBe("acknowledged");
    const second = receiver.received[1];
    expect(second && eventIds(second)).toEqual(Array.from({ length: 30 }, (_, i) => first + 100 + i));
    expect(second?.headers["webhook-id"]).not.toBe(batch?.headers["webhook-id"]);

    const three = await deliverStep(deps(two.state, receiver.send));
    expect(three.step).toEqual({ kind: "idle" });
    expect(receiver.received).toHaveLength(2);
  });

  it("retries a failed batch as it was, under the same webhook-id, after a jittered backoff; nothing later first", async () => {
    const first = await storeEvents(3);
    const receiver = scripted([500, new DOMException("timed out", "TimeoutError"), 302]);
    let state: DeliveryState = { ...NO_DELIVERY, acknowledged: first - 1 };
    let now = Date.now();

    const failed = deps(state, receiver.send, now);
    const one = await deliverStep(failed);
    // Saved before it was sent (a crash then retries the same id), and again with the failure.
    expect(failed.saved.map((s) => s.pending?.attempts)).toEqual([0, 1]);
    expect(one.step).toEqual({ kind: "failed", until: now + 500 });
    expect(one.state.lastError?.message).toBe("the receiver answered 500");
    expect(one.state.acknowledged).toBe(first - 1);
    state = one.state;

    // Before the retry is due, nothing is sent, even with new events committed.
    await storeEvents(2);
    const early = await deliverStep(deps(state, receiver.send, now + 499));
    expect(early.step).toEqual({ kind: "waiting", until: now + 500 });
    expect(receiver.received).toHaveLength(1);

    now += 500;
    const two = await deliverStep(deps(state, receiver.send, now));
    expect(two.state.lastError?.message).toBe("the receiver did not answer within 10 s");
    expect(two.step).toEqual({ kind: "failed", until: now + 1000 });
    now += 1000;
    const three = await deliverStep(deps(two.state, receiver.send, now));
    expect(three.state.lastError?.message).toBe("the receiver answered 302");
    now += 2000;
    const four = await deliverStep(deps(three.state, receiver.send, now));
    expect(four.step.kind).toBe("acknowledged");

    const ids = receiver.received.map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(receiver.received.every((r) => eventIds(r).join() === [first, first + 1, first + 2].join())).toBe(true);
    expect(four.state).toMatchObject({ acknowledged: first + 2, pending: null });
    // Kept for GET /events/delivery after the success.
    expect(four.state.lastError?.message).toBe("the receiver answered 302");

    // The events committed meanwhile come next, under a new id.
    const five = await deliverStep(deps(four.state, receiver.send, now));
    expect(five.step.kind).toBe("acknowledged");
    const last = receiver.received.at(-1);
    expect(last && eventIds(last)).toEqual([first + 3, first + 4]);
    expect(last?.headers["webhook-id"]).not.toBe(ids[0]);
  });

  it("says when the receiver cannot be reached", async () => {
    const first = await storeEvents(1);
    const receiver = scripted([new TypeError("connection refused")]);
    const { state } = await deliverStep(deps({ ...NO_DELIVERY, acknowledged: first - 1 }, receiver.send));
    expect(state.lastError?.message).toBe("the receiver could not be reached: connection refused");
    expect(state.pending?.attempts).toBe(1);
  });
});

describe("backoffDelay", () => {
  it("is full jitter under a ceiling that doubles per attempt and stops at an hour", () => {
    expect(backoffDelay(1, 1000, () => 0.999)).toBe(999);
    expect(backoffDelay(4, 1000, () => 0.5)).toBe(4000);
    expect(backoffDelay(1, 1000, () => 0)).toBe(0);
    expect(backoffDelay(40, 1000, () => 0.999_999)).toBeLessThanOrEqual(3_600_000);
    expect(backoffDelay(2000, 1000, () => 0.5)).toBe(1_800_000);
  });
});

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCursor } from "../../src/contract/cursor";
import type { DeliveryStatus } from "../../src/contract/delivery";
import { type DevServer, startDevServer } from "../browser/wrangler-dev";
import { TestReceiver } from "./receiver";

// Push of the change feed end to end: `wrangler dev` (the Worker, the objects, local D1)
// delivering to a real receiver on 127.0.0.1 that verifies every signature, through
// faults: 500s, a hang past the 10 s timeout, the receiver down, the Worker killed
// mid-delivery and restarted on the same state. Short backoffs through the dev-only vars.
const CALLER = "webhook-test-caller-token";
const ADMIN = "webhook-test-admin-token";
const SECRET = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i)).toString("base64")}`;
const TIMINGS = { WEBHOOK_BACKOFF_BASE_MS: "200", WEBHOOK_SAFETY_NET_MS: "2000" };

const receiver = new TestReceiver(SECRET);
let receiverPort = 0;
let store = "";
let dev: DevServer;
/** Events the test has made so far: each identify below creates one contact, so one event. */
let made = 0;

const vars = () => ({
  API_TOKENS: CALLER,
  ADMIN_TOKENS: ADMIN,
  WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/hooks/identity?source=test`,
  WEBHOOK_SECRET: SECRET,
  ...TIMINGS,
});

beforeAll(async () => {
  receiverPort = await receiver.start();
  store = await mkdtemp(path.join(tmpdir(), "webhooks-dev-"));
  dev = await startDevServer(vars(), undefined, { persistTo: store });
});

afterAll(async () => {
  await dev?.stop();
  await receiver.stop();
  await rm(store, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates `count` new contacts through /identify, each answered at once, whatever the receiver does. */
async function makeEvents(count: number, server = dev): Promise<void> {
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    const res = await fetch(`${server.url}/identify`, {
      method: "POST",
      headers: { authorization: `Bearer ${CALLER}`, "content-type": "application/json" },
      body: JSON.stringify({ email: `push-${made + 1}-${Date.now()}@example.com` }),
    });
    expect(res.status, await res.text()).toBe(200);
    // The receiver never holds /identify up: it may hang for 10 s.
    expect(Date.now() - started).toBeLessThan(5000);
    made += 1;
  }
}

async function deliveryStatus(server = dev): Promise<DeliveryStatus> {
  const res = await fetch(`${server.url}/events/delivery`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as DeliveryStatus;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Waits until every event made is acknowledged, then checks the consumer has each once, in feed order. */
async function expectAllDelivered(server = dev): Promise<DeliveryStatus> {
  const status = await until("every event acknowledged", async () => {
    const s = await deliveryStatus(server);
    return s.pending === 0 && s.acknowledged !== null && decodeCursor(s.acknowledged) === made ? s : undefined;
  });
  expect(receiver.applied).toEqual(Array.from({ length: made }, (_, i) => i + 1));
  expect(receiver.forged).toBe(0);
  expect(status).toMatchObject({ state: "idle", origin: `http://127.0.0.1:${receiverPort}`, nextAttemptAt: null });
  return status;
}

/** The deliveries since `from` that carried event `id`. */
const carrying = (id: number, from = 0) => receiver.received.slice(from).filter((r) => r.eventIds.includes(id));

describe("webhook delivery to a real receiver", () => {
  it("delivers every event, signed, in feed order, each delivery with its own webhook-id", async () => {
    await makeEvents(5);
    await expectAllDelivered();
    const ids = receiver.received.map((r) => r.webhookId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of receiver.received) expect(r.eventIds.length).toBeLessThanOrEqual(100);
  });

  it("retries a 500 under the same webhook-id until the receiver recovers", async () => {
    const from = receiver.received.length;
    receiver.failNext = 3;
    await makeEvents(3);
    const status = await expectAllDelivered();
    expect(status.lastError?.message).toBe("the receiver answered 500");
    const failed = receiver.received.slice(from).filter((r) => r.status === 500);
    expect(failed).toHaveLength(3);
    // Each failed delivery was retried as it was: its id came back until a 2xx.
    const firstFailed = failed[0];
    const retried = receiver.received.slice(from).filter((r) => r.webhookId === firstFailed?.webhookId);
    expect(retried.map((r) => r.status).at(-1)).toBe(204);
    expect(new Set(retried.map((r) => r.eventIds.join()))).toHaveLength(1);
  });

  it("gives up on a receiver that hangs past 10 s and retries the same delivery", async () => {
    const from = receiver.received.length;
    receiver.hangNext = 1;
    await makeEvents(2);
    await until("a hung delivery", async () => (receiver.hanging > 0 ? true : undefined));
    const status = await expectAllDelivered();
    expect(status.lastError?.message).toBe("the receiver did not answer within 10 s");
    const [hung, ...after] = receiver.received.slice(from);
    const retry = after.find((r) => r.webhookId === hung?.webhookId);
    expect(retry?.eventIds).toEqual(hung?.eventIds);
    expect((retry?.at ?? 0) - (hung?.at ?? 0)).toBeGreaterThanOrEqual(10_000);
  });

  it("keeps retrying while the receiver is down, and delivers everything once it is back", async () => {
    await receiver.stop();
    await makeEvents(4);
    const down = await until("a failed attempt", async () => {
      const s = await deliveryStatus();
      return s.state === "retrying" && s.lastError?.message.startsWith("the receiver could not be reached")
        ? s
        : undefined;
    });
    expect(down.pending).toBeGreaterThan(0);
    expect(Date.parse(down.nextAttemptAt ?? "")).toBeGreaterThan(0);
    await sleep(3000);
    await receiver.start(receiverPort);
    await expectAllDelivered();
  });

  it("resumes after the Worker is killed mid-delivery, on the same state, with no request to wake it", async () => {
    const from = receiver.received.length;
    receiver.hangNext = 1;
    await makeEvents(3);
    await until("a delivery in flight", async () => (receiver.hanging > 0 ? true : undefined));
    const inFlight = receiver.received.at(-1);
    await dev.kill();
    const port = Number(new URL(dev.url).port);
    dev = await startDevServer(vars(), undefined, { persistTo: store, port });
    // Only the dispatcher's own alarm: the test reads the receiver, not the Worker.
    await until("the delivery resumed", async () => (receiver.applied.length === made ? true : undefined));
    const again = receiver.received.slice(from).filter((r) => r.webhookId === inFlight?.webhookId);
    expect(again.length).toBeGreaterThanOrEqual(2);
    expect(again.at(-1)?.status).toBe(204);
    expect(carrying(made, from).length).toBeGreaterThan(0);
    await expectAllDelivered();
  });
});

describe("a malformed WEBHOOK_URL at run time", () => {
  let misconfigured: DevServer;
  beforeAll(async () => {
    misconfigured = await startDevServer({ ...vars(), WEBHOOK_URL: "http://hooks.example.com/identity" });
  });
  afterAll(async () => {
    await misconfigured?.stop();
  });

  it("stops delivery, reported by /events/delivery and the log, never /identify", async () => {
    const seen = receiver.received.length;
    await makeEvents(1, misconfigured);
    made -= 1;
    const status = await until("the error reported", async () => {
      const s = await deliveryStatus(misconfigured);
      return s.state === "misconfigured" ? s : undefined;
    });
    expect(status).toMatchObject({ origin: null, acknowledged: null, pending: 1 });
    expect(status.lastError?.message).toBe("WEBHOOK_URL must be https://, or http://127.0.0.1 or http://localhost");
    await until("the log line", async () =>
      misconfigured.output().includes('"outcome":"stopped"') ? true : undefined,
    );
    expect(receiver.received.length).toBe(seen);
  });
});

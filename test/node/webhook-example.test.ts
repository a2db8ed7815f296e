import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/contract/cursor";
import { parseWebhookSecret } from "../../src/webhooks/config";
import { signDelivery } from "../../src/webhooks/sign";
import { freePort } from "../browser/wrangler-dev";

// examples/webhook-receiver.ts as a user runs it, fed deliveries signed as the dispatcher signs them.
const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const SECRET = `whsec_${Buffer.alloc(32, 42).toString("base64")}`;
let child: ChildProcess;
let url = "";

beforeAll(async () => {
  const port = await freePort();
  child = spawn(process.execPath, [TSX, "examples/webhook-receiver.ts"], {
    cwd: ROOT,
    env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(child.stdout ?? child, "data")) as [Buffer];
  expect(line.toString()).toContain(`http://127.0.0.1:${port}/`);
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

const event = (id: number, kind: string, primaryContactId: number, contactIds: number[]) => ({
  id: encodeCursor(id),
  at: new Date().toISOString(),
  kind,
  primaryContactId,
  contactIds,
  requestId: `req-${id}`,
});

async function deliver(webhookId: string, events: unknown[], secret = SECRET): Promise<number> {
  const body = JSON.stringify({ events });
  const headers = await signDelivery(parseWebhookSecret(secret), webhookId, new Date(), body);
  const res = await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
  return res.status;
}

const mirror = async () => (await (await fetch(`${url}/mirror`)).json()) as Record<string, number>;

describe("examples/webhook-receiver.ts", () => {
  it("verifies, applies each event once by id, and keeps the mirror the contract's rule gives", async () => {
    const first = [event(1, "created", 1, [1]), event(2, "created", 2, [2]), event(3, "linked", 2, [3])];
    expect(await deliver("msg_a", first)).toBe(204);
    // A retry of the same delivery, then the next: nothing is applied twice.
    expect(await deliver("msg_a", first)).toBe(204);
    expect(await deliver("msg_b", [event(4, "merged", 1, [2]), event(5, "erased", 1, [3])])).toBe(204);
    expect(await mirror()).toEqual({ "1": 1, "2": 1 });
    expect(await deliver("msg_c", [event(6, "split", 2, [2])])).toBe(204);
    expect(await mirror()).toEqual({ "1": 1, "2": 2 });
  });

  it("refuses a delivery signed with another key, and applies nothing of it", async () => {
    const forged = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(await deliver("msg_x", [event(7, "created", 9, [9])], forged)).toBe(401);
    expect(await mirror()).not.toHaveProperty("9");
  });
});

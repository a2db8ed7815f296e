import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callAsAdmin, identify, unique } from "../helpers";

// GET /events/delivery under the test configuration, where WEBHOOK_URL is empty (no push):
// test/node/webhooks.test.ts runs it against a real receiver, on and misconfigured.
describe("GET /events/delivery", () => {
  it("is for admin tokens only, and GET only", async () => {
    expect((await call("/events/delivery")).status).toBe(403);
    expect((await call("/events/delivery", { headers: { authorization: "" } })).status).toBe(401);
    const post = await callAsAdmin("/events/delivery", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });

  it("answers off without WEBHOOK_URL, with every stored event pending and no attempt due", async () => {
    expect(env.WEBHOOK_URL).toBe("");
    await identify({ email: `${unique("delivery")}@example.com` });
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM contact_events").first<{ n: number }>();
    const res = await callAsAdmin("/events/delivery");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      state: "off",
      origin: null,
      acknowledged: null,
      acknowledgedAt: null,
      pending: stored?.n,
      lastError: null,
      nextAttemptAt: null,
    });
  });

  it("leaves the dispatcher asleep without WEBHOOK_URL: writes poke nothing, a poke sets no alarm", async () => {
    await identify({ email: `${unique("asleep")}@example.com` });
    const stub = env.DISPATCHER.getByName("webhooks");
    expect(await stub.poke()).toBe(0);
    await runInDurableObject(stub, async (_instance, state) => {
      expect(await state.storage.getAlarm()).toBeNull();
      expect(await state.storage.get("delivery")).toBeUndefined();
    });
  });
});

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, countRows, postIdentify, storedRows, unique } from "../helpers";
import { RATE_LIMIT_TOKEN } from "../tokens";

afterEach(() => {
  vi.restoreAllMocks();
});

const asLimited = { authorization: `Bearer ${RATE_LIMIT_TOKEN}` };
const BURST = 100;

describe("the per-token rate limit (RATE_LIMITER, as wrangler.toml configures it)", () => {
  it("answers 429 with Retry-After once the token's budget is spent, and limits no one else", async () => {
    const config = env.TEST_RATE_LIMIT;
    if (!config) throw new Error("wrangler.toml declares no RATE_LIMITER");
    expect([10, 60]).toContain(config.period);
    expect(env.RATE_LIMIT_PERIOD).toBe(String(config.period));

    // Cheap requests (an unknown path: 404 after the token and the budget are checked),
    // in bursts, until the first 429. A window may roll over once while we send, so
    // allow for two budgets before giving up.
    let allowed = 0;
    let limited: Response | undefined;
    while (!limited && allowed <= 2 * config.limit) {
      const burst = await Promise.all(Array.from({ length: BURST }, () => call("/nowhere", { headers: asLimited })));
      for (const res of burst) {
        if (res.status === 429) limited ??= res;
        else expect(res.status).toBe(404);
      }
      allowed += burst.filter((res) => res.status !== 429).length;
    }
    if (!limited) throw new Error(`no 429 after ${allowed} requests`);
    expect(allowed).toBeGreaterThanOrEqual(config.limit);

    expect(limited.headers.get("retry-after")).toBe(String(config.period));
    expect(limited.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await limited.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });

    // A limited write writes nothing. The window may have rolled over since the 429 (a
    // busy machine): then the write went through, and the budget is spent again first.
    let email = "";
    let write: Response | undefined;
    for (let attempt = 0; attempt < 3 && write?.status !== 429; attempt++) {
      while ((await call("/nowhere", { headers: asLimited })).status !== 429);
      email = `${unique("limited")}@x.io`;
      const before = await countRows();
      write = await call("/identify", { method: "POST", headers: asLimited, body: JSON.stringify({ email }) });
      if (write.status === 429) expect(await countRows()).toBe(before);
    }
    expect(write?.status).toBe(429);
    expect(await storedRows("email = ?", email)).toEqual([]);

    // The budget is the token's: other tokens and the open /health are not limited.
    expect((await postIdentify({ email })).status).toBe(200);
    expect((await call("/health", { headers: asLimited })).status).toBe(200);
    // Over a thousand requests: on a busy machine they outlast the default 5 s.
  }, 60_000);

  it("lets authenticated calls through if the limiter itself fails (it guards capacity, not data)", async () => {
    const limit = vi.spyOn(env.RATE_LIMITER, "limit").mockRejectedValue(new Error("limiter unreachable"));
    const res = await postIdentify({ email: `${unique("open")}@x.io` });
    expect(res.status).toBe(200);
    expect(limit).toHaveBeenCalledTimes(1);
  });

  it("is not consulted for a request that failed authentication", async () => {
    const limit = vi.spyOn(env.RATE_LIMITER, "limit");
    expect((await call("/nowhere", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(limit).not.toHaveBeenCalled();
  });
});

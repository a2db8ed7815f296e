import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Kept } from "../../tools/import/collect";
import { loadThroughService, ServiceError, savedProgress } from "../../tools/import/load-service";
import { RejectsFile } from "../../tools/import/rejects";

// The --url path's handling of the service's answers, against a fetch that answers as the
// service would: 429 and 503 waited out for their Retry-After, 400 and 422 into the rejects,
// anything else stops the import with its progress saved for --resume.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "import-service-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

const records: Kept[] = [1, 2, 3].map((n) => ({
  line: n + 1,
  who: { email: `user${n}@shop.example` },
  ignored: [],
  at: undefined,
}));

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A fetch that answers each call from `answers` in turn (then 200), logging when each call came. */
function fakeService(answers: (() => Response)[]) {
  const calls: { at: number; body: string; auth: string | null }[] = [];
  const fetch = vi.fn(async (_url: URL | string, init?: RequestInit) => {
    calls.push({
      at: Date.now(),
      body: String(init?.body),
      auth: new Headers(init?.headers).get("authorization"),
    });
    const answer = answers.shift();
    return answer ? answer() : json(200, { contact: {} });
  });
  vi.stubGlobal("fetch", fetch);
  return calls;
}

const target = { url: "http://service.test", token: "caller-token", concurrency: 1 };

describe("loadThroughService", () => {
  it("waits out 429 and 503 for their Retry-After, then goes on in order", async () => {
    const calls = fakeService([
      () => json(429, { error: { code: "rate_limited", message: "slow down" } }, { "retry-after": "1" }),
      () => json(503, { error: { code: "unavailable", message: "busy" } }, { "retry-after": "2" }),
    ]);
    const rejects = new RejectsFile(path.join(dir, "retry.rejects.csv"));
    const stateFile = path.join(dir, "retry.state.json");
    const counts = await loadThroughService(target, records, 0, { stateFile, digest: "d" }, rejects, () => {});
    await rejects.keep();
    expect(counts).toMatchObject({ applied: 3, rejected: 0 });
    // The first record three times (429, 503, 200), then the others once each.
    expect(calls.map((c) => JSON.parse(c.body).email)).toEqual([
      "user1@shop.example",
      "user1@shop.example",
      "user1@shop.example",
      "user2@shop.example",
      "user3@shop.example",
    ]);
    expect(calls.every((c) => c.auth === "Bearer caller-token")).toBe(true);
    const [first, second, third] = calls.map((c) => c.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(1_000 - 20);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(2_000 - 20);
    // Done: no state left for --resume, no rejects file.
    expect(existsSync(stateFile)).toBe(false);
    expect(existsSync(path.join(dir, "retry.rejects.csv"))).toBe(false);
  });

  it("writes 400 and 422 refusals to the rejects file with their codes, and goes on", async () => {
    fakeService([
      () => json(400, { error: { code: "invalid_request", message: "email: Invalid email" } }),
      () => json(422, { error: { code: "identifier_blocked", message: "every identifier is blocked" } }),
    ]);
    const rejects = new RejectsFile(path.join(dir, "refused.rejects.csv"));
    const counts = await loadThroughService(
      target,
      records,
      0,
      { stateFile: path.join(dir, "refused.state.json"), digest: "d" },
      rejects,
      () => {},
    );
    await rejects.keep();
    expect(counts).toMatchObject({ applied: 1, rejected: 2 });
    expect(await readFile(path.join(dir, "refused.rejects.csv"), "utf8")).toBe(
      "line,code,message\n2,invalid_request,email: Invalid email\n3,identifier_blocked,every identifier is blocked\n",
    );
  });

  it("stops at an answer it cannot wait out, with the records done saved for --resume", async () => {
    fakeService([
      () => json(200, { contact: {} }),
      () => json(401, { error: { code: "unauthorized", message: "unknown token" } }),
    ]);
    const rejects = new RejectsFile(path.join(dir, "stop.rejects.csv"));
    const stateFile = path.join(dir, "stop.state.json");
    await expect(
      loadThroughService(target, records, 0, { stateFile, digest: "digest-1" }, rejects, () => {}),
    ).rejects.toThrow(ServiceError);
    await rejects.discard();
    expect(await savedProgress(stateFile, "digest-1", target.url)).toBe(1);
    // Another file, or another service, does not resume from it.
    expect(await savedProgress(stateFile, "digest-2", target.url)).toBe(0);
    expect(await savedProgress(stateFile, "digest-1", "http://elsewhere.test")).toBe(0);
  });
});

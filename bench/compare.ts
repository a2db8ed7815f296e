import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { type LoadResult, runLoad } from "./load";
import { BENCH_TOKEN, ROOT, type Runtime } from "./runtime";

/** `GET /health` through one way of serving the Worker locally. */
export type RuntimeComparison = { runtime: string; concurrency: number; result: LoadResult };

/** A free TCP port on 127.0.0.1 (the OS picks it; there is a short race, acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Polls until the URL answers 200, or fails after `timeoutMs`. */
async function waitUntilUp(url: URL, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited ${child.exitCode}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url.href} did not come up in ${timeoutMs / 1000}s`);
}

/**
 * Starts `wrangler dev` as `npm run dev` does (its proxy in front of workerd, the
 * inspector on), in its own process group so that stopping it stops its workerd too.
 */
async function startWranglerDev(): Promise<{ url: URL; stop: () => Promise<void> }> {
  const port = await freePort();
  const persist = await mkdtemp(path.join(os.tmpdir(), "bench-wrangler-dev-"));
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js"),
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persist,
      "--var",
      `API_TOKENS:${BENCH_TOKEN}`,
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, detached: true, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  const pid = child.pid;
  const stop = async () => {
    if (pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-pid, "SIGTERM"); // the group we created: wrangler and the workerd it started
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) process.kill(-pid, "SIGKILL");
    }
    await rm(persist, { recursive: true, force: true });
  };
  const url = new URL(`http://127.0.0.1:${port}/health`);
  try {
    await waitUntilUp(url, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/**
 * Measures `GET /health` through `wrangler dev`, through Miniflare's entry socket and
 * through the socket bound straight to the Worker, at the given concurrencies: the
 * evidence for which local runtime the bench uses.
 */
export async function compareRuntimes(
  runtime: Runtime,
  concurrency: readonly number[],
  timing: { warmupMs: number; durationMs: number },
  onResult?: (r: RuntimeComparison) => void,
): Promise<RuntimeComparison[]> {
  const results: RuntimeComparison[] = [];
  const measure = async (name: string, url: URL) => {
    for (const c of concurrency) {
      const result = await runLoad({
        url,
        concurrency: c,
        ...timing,
        headers: {},
        next: () => ({ method: "GET", path: "/health" }),
      });
      const entry = { runtime: name, concurrency: c, result };
      results.push(entry);
      onResult?.(entry);
    }
  };
  const dev = await startWranglerDev();
  try {
    await measure("wrangler dev (its proxy, inspector on)", dev.url);
  } finally {
    await dev.stop();
  }
  await measure("Miniflare API, entry socket", runtime.entryUrl);
  await measure("Miniflare API, direct socket (the bench's)", runtime.url);
  return results;
}

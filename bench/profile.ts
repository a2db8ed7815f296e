import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "./runtime";

/**
 * CPU profiles of workerd's isolates while a workload runs, through workerd's DevTools
 * inspector (so only with `inspectorPort` set, which slows every request: use the
 * profile for proportions, never for figures). Writes one `.cpuprofile` per isolate,
 * loadable in Chrome DevTools, and returns the functions with the most self time.
 */

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** The isolates worth profiling: ours, and local D1's two Workers. */
export const PROFILED_ISOLATES = ["core:user:identity-reconciliation", "d1:db:entry", "d1:db"];

/** A minimal DevTools protocol client over Node's WebSocket. */
async function connect(url: string) {
  const socket = new WebSocket(url);
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 0;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  return {
    send<T>(method: string, params: object = {}): Promise<T> {
      const id = ++nextId;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => pending.set(id, (result) => resolve(result as T)));
    },
    close: () => socket.close(),
  };
}

export type HotFunction = { isolate: string; function: string; selfMs: number; share: number };

/** Self time per function (name, file and line of the bundle), largest first. */
function hotFunctions(isolate: string, profile: CpuProfile, top: number): HotFunction[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((sample, i) => {
    const frame = nodes.get(sample)?.callFrame;
    if (!frame || frame.functionName === "(idle)") return;
    const us = profile.timeDeltas[i] ?? 0;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop() ?? ""}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
    busy += us;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ isolate, function: fn, selfMs: us / 1000, share: busy === 0 ? 0 : us / busy }));
}

/**
 * Profiles the isolates while `load` runs. `inspectorPort` must be the port the
 * runtime was started with; the profiles go to bench/results/<label>.<isolate>.cpuprofile.
 */
export async function profileWhile(
  inspectorPort: number,
  load: () => Promise<unknown>,
  label: string,
  top = 25,
): Promise<HotFunction[]> {
  const clients = await Promise.all(
    PROFILED_ISOLATES.map((isolate) => connect(`ws://127.0.0.1:${inspectorPort}/${isolate}`)),
  );
  try {
    for (const client of clients) {
      await client.send("Profiler.enable");
      await client.send("Profiler.setSamplingInterval", { interval: 200 });
      await client.send("Profiler.start");
    }
    await load();
    const hot: HotFunction[] = [];
    await mkdir(path.join(ROOT, "bench", "results"), { recursive: true });
    for (const [i, client] of clients.entries()) {
      const isolate = PROFILED_ISOLATES[i] ?? `isolate${i}`;
      const { profile } = await client.send<{ profile: CpuProfile }>("Profiler.stop");
      const file = path.join(ROOT, "bench", "results", `${label}.${isolate.replaceAll(":", "_")}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      hot.push(...hotFunctions(isolate, profile, top));
    }
    return hot;
  } finally {
    for (const client of clients) client.close();
  }
}

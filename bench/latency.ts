/**
 * The latency model (`npm run bench -- --latency`): the real Worker and objects served by
 * bench/worker/latency.ts, which delays every call to a binding by the round-trip time
 * of the hop it would cross in a global deployment. Each request kind is measured for a
 * caller near the database and one far from it, and beside each, a single-region server
 * under the same delays: the same code with every hop local, behind one round trip from
 * the caller to the database's region.
 */
import { writeFile } from "node:fs/promises";
import type { Goal } from "./goals";
import { goalsTable, renderMarkdown, renderText, type Table, writeJson } from "./report";
import { type Cell, contender, measure } from "./runs";
import { type Runtime, startRuntime } from "./runtime";
import type { WorkloadName } from "./workloads";

/** The bench-only entry module the model is built from. */
export const LATENCY_ENTRY = "bench/worker/latency.ts";

/** Round-trip times of the model, in milliseconds; `--delays hop=ms,...` overrides any. */
export const DEFAULT_DELAYS = {
  /** Caller to the Cloudflare location nearest it, near or far from the database. */
  "caller-worker": 10,
  /** A Worker near the database to D1's primary, and a far one. */
  "worker-primary.near": 5,
  "worker-primary.far": 150,
  /** A Worker to the nearest read replica. */
  "worker-replica": 5,
  /** A Worker to a Durable Object placed beside the database (location hint), near and far. */
  "worker-object.near": 5,
  "worker-object.far": 150,
  /** That object to D1's primary; also a single-region server to its database. */
  "object-d1": 2,
};
export type Delays = Record<keyof typeof DEFAULT_DELAYS, number>;

/** `--delays` parsed over the defaults. */
export function parseDelays(list: string | undefined): Delays {
  const delays: Delays = { ...DEFAULT_DELAYS };
  for (const entry of (list ?? "").split(",").filter((e) => e.trim() !== "")) {
    const [hop = "", value = ""] = entry.split("=").map((part) => part.trim());
    const ms = Number(value);
    if (!(hop in delays) || value === "" || !Number.isFinite(ms) || ms < 0) {
      throw new Error(`--delays: "${entry}" is not <hop>=<ms>, hop one of ${Object.keys(DEFAULT_DELAYS).join(", ")}`);
    }
    delays[hop as keyof Delays] = ms;
  }
  return delays;
}

/** The delays of one request, as bench/worker/latency.ts reads them from `Bench-Delays`. */
type HopDelays = { callerWorker: number; workerPrimary: number; workerReplica: number; workerObject: number };

type Caller = "near" | "far";
type Deployment = "global" | "single-region";

function hopDelays(delays: Delays, caller: Caller, deployment: Deployment): HopDelays {
  const toRegion = delays[`worker-primary.${caller}`];
  if (deployment === "global") {
    return {
      callerWorker: delays["caller-worker"],
      workerPrimary: toRegion,
      workerReplica: delays["worker-replica"],
      workerObject: delays[`worker-object.${caller}`],
    };
  }
  // One server in the database's region: the caller's round trip to that region, then
  // every hop local (no replica, the object a lock in the same process).
  return {
    callerWorker: delays["caller-worker"] + toRegion,
    workerPrimary: delays["object-d1"],
    workerReplica: delays["object-d1"],
    workerObject: 0,
  };
}

/** The request kinds of `/identify` the model measures. */
export const LATENCY_KINDS: readonly WorkloadName[] = ["repeat", "new", "link", "merge"];

export type LatencyCell = { caller: Caller; deployment: Deployment; cell: Cell };

/** Goals for a far caller, as a ratio to the single-region server's p50. */
const FAR_GOALS: Partial<Record<WorkloadName, number>> = { repeat: 0.3, new: 1.2, link: 1.2, merge: 1.2 };

/**
 * Measures each kind at concurrency 1 (latency, not throughput: no queueing) for each
 * caller and deployment, on `runtime` serving LATENCY_ENTRY.
 */
export async function runLatency(
  runtime: Runtime,
  delays: Delays,
  timing: { warmupMs: number; durationMs: number },
  onCell?: (cell: LatencyCell) => void,
): Promise<LatencyCell[]> {
  const target = await contender(runtime);
  const cells: LatencyCell[] = [];
  for (const workload of LATENCY_KINDS) {
    for (const caller of ["near", "far"] as const) {
      for (const deployment of ["global", "single-region"] as const) {
        const headers = { "bench-delays": JSON.stringify(hopDelays(delays, caller, deployment)) };
        const cell = await measure(target, workload, 1, {
          ...timing,
          workloads: LATENCY_KINDS,
          concurrency: [1],
          headers,
        });
        const result = { caller, deployment, cell };
        cells.push(result);
        onCell?.(result);
      }
    }
  }
  return cells;
}

function p50(cells: readonly LatencyCell[], workload: WorkloadName, caller: Caller, deployment: Deployment) {
  return cells.find((c) => c.cell.workload === workload && c.caller === caller && c.deployment === deployment)?.cell
    .load.latencyMs.p50;
}

const ms = (value: number | undefined) => (value === undefined ? "-" : value.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

/** p50 per kind and caller, beside the single-region server's, and their ratio. */
export function latencyTable(cells: readonly LatencyCell[]): Table {
  const rows = LATENCY_KINDS.map((workload) => {
    const row: string[] = [workload];
    for (const caller of ["near", "far"] as const) {
      const global = p50(cells, workload, caller, "global");
      const single = p50(cells, workload, caller, "single-region");
      const r = ratio(global, single);
      row.push(ms(global), ms(single), r === undefined ? "-" : `${r.toFixed(2)}x`);
    }
    return row;
  });
  return {
    header: ["kind", "near p50 ms", "single-region", "ratio", "far p50 ms", "single-region", "ratio"],
    rows,
    left: 1,
  };
}

/** The delays as a table: what the figures were modelled with. */
export function delaysTable(delays: Delays): Table {
  return {
    header: ["hop", "round trip ms"],
    rows: Object.entries(delays).map(([hop, v]) => [hop, String(v)]),
    left: 1,
  };
}

/** Far callers: repeat at most 0.3x, writes at most 1.2x the single-region server's p50. */
export function latencyGoals(cells: readonly LatencyCell[]): Goal[] {
  return LATENCY_KINDS.flatMap((workload) => {
    const target = FAR_GOALS[workload];
    if (target === undefined) return [];
    const global = p50(cells, workload, "far", "global");
    const single = p50(cells, workload, "far", "single-region");
    const r = ratio(global, single);
    return [
      {
        goal: `modelled ${workload}, far caller: p50 <= ${target}x a single-region server's`,
        actual: r === undefined ? "not measured" : `${ms(global)} / ${ms(single)} ms = ${r.toFixed(2)}x`,
        met: r === undefined ? null : r <= target,
      },
    ];
  });
}

/**
 * `npm run bench -- --latency`: builds LATENCY_ENTRY, runs the model, prints the delays,
 * the table and the goals, and writes `out` (JSON) with its Markdown beside it.
 */
export async function latencyMain(options: {
  delays: Delays;
  timing: { warmupMs: number; durationMs: number };
  stateDir: string;
  keepState: boolean;
  out: string;
  header: string;
}): Promise<void> {
  const { delays, timing } = options;
  console.log(`building ${LATENCY_ENTRY} (wrangler deploy --dry-run) and starting workerd...`);
  const runtime = await startRuntime({
    entry: LATENCY_ENTRY,
    vars: { BENCH_OBJECT_D1_MS: String(delays["object-d1"]) },
    stateDir: options.stateDir,
    keepState: options.keepState,
  });
  try {
    const cells = await runLatency(runtime, delays, timing, ({ caller, deployment, cell }) =>
      console.log(
        `${cell.workload.padEnd(7)} ${caller.padEnd(5)} ${deployment.padEnd(14)} p50 ${cell.load.latencyMs.p50.toFixed(1)} ms (${cell.load.requests} requests, ${cell.load.errors} errors)`,
      ),
    );
    const markdown = [options.header];
    const section = (title: string, table: Table) => {
      console.log(`\n${title}\n${renderText(table)}`);
      markdown.push(`#### ${title}\n\n${renderMarkdown(table)}`);
    };
    section("modelled round trips (ms)", delaysTable(delays));
    section("modelled p50 at concurrency 1, global deployment beside a single-region server", latencyTable(cells));
    section("goals", goalsTable(latencyGoals(cells)));
    const file = await writeJson(options.out, { delays, timing, cells, goals: latencyGoals(cells) });
    await writeFile(`${file.replace(/\.json$/, "")}.md`, `${markdown.join("\n\n")}\n`);
    console.log(`\nwrote ${file} and its .md`);
  } finally {
    await runtime.stop();
  }
}

import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Floor } from "./floors";
import type { LoadResult } from "./load";
import { mergeUsage, type UsageByOutcome } from "./request-log";
import type { Cell } from "./runs";
import { ROOT } from "./runtime";

/** What ran the bench: figures mean little without it. */
export type Machine = {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  workerd: string;
  miniflare: string;
  wrangler: string;
};

function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
      version?: string;
    };
    return manifest.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function describeMachine(): Machine {
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    workerd: packageVersion("workerd"),
    miniflare: packageVersion("miniflare"),
    wrangler: packageVersion("wrangler"),
  };
}

/** The machine in one line. */
export function describe(machine: Machine): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}; node ${machine.node}, workerd ${machine.workerd}, miniflare ${machine.miniflare}, wrangler ${machine.wrangler}`;
}

const fixed = (value: number, digits: number) => value.toFixed(digits);

/** A table, rendered as aligned text for the terminal and as Markdown for BENCHMARKS.md. */
export type Table = { header: string[]; rows: string[][] /** Leading columns aligned left. */; left: number };

export function renderText({ header, rows, left }: Table): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < left ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function renderMarkdown({ header, rows, left }: Table): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), `|${header.map((_, i) => (i < left ? " --- " : " ---: ")).join("|")}|`, ...rows.map(line)].join(
    "\n",
  );
}

/** Per-request means over every outcome of a cell's usage ("-" when nothing was logged). */
function perRequest(usage: UsageByOutcome): { roundTrips: string; statements: string; objectCalls: string } {
  const all = Object.values(usage);
  const requests = all.reduce((n, u) => n + u.requests, 0);
  if (requests === 0) return { roundTrips: "-", statements: "-", objectCalls: "-" };
  const mean = (pick: (u: UsageByOutcome[string]) => number) =>
    fixed(all.reduce((sum, u) => sum + pick(u) * u.requests, 0) / requests, 2);
  const max = Math.max(...all.map((u) => u.d1RoundTrips.max));
  return {
    roundTrips: `${mean((u) => u.d1RoundTrips.mean)} (max ${max})`,
    statements: mean((u) => u.d1Statements.mean),
    objectCalls: mean((u) => u.objectCalls.mean),
  };
}

/**
 * CPU time per request of our process tree (workerd and the load generator), in ms: a
 * cost that, unlike requests/s, does not depend on how many cores were free.
 */
function cpuPerRequest(cell: Cell): string {
  const { ownCores } = cell.cpu;
  const rps = cell.load.requestsPerSecond;
  return ownCores === null || rps === 0 ? "-" : fixed((ownCores / rps) * 1000, 2);
}

/** Cores that other processes used during the window. */
function othersCores(cell: Cell): string {
  return cell.cpu.otherCores === null ? "-" : fixed(cell.cpu.otherCores, 2);
}

/** Other processes busier than this during a cell make its figures suspect. */
export const NOISY_OTHER_CORES = 0.15;

/** One line per cell, printed as the run goes. */
export function cellLine(cell: Cell): string {
  const { load } = cell;
  const ratio = cell.ratioToHealth === null ? "" : ` (${fixed(cell.ratioToHealth, 2)}x health)`;
  const rows = cell.size > 0 ? ` rows=${cell.tableRows.toLocaleString("en-US")}` : "";
  const noisy =
    cell.cpu.otherCores !== null && cell.cpu.otherCores > NOISY_OTHER_CORES
      ? ` [other processes used ${fixed(cell.cpu.otherCores, 2)} cores: noisy]`
      : "";
  return `${cell.workload.padEnd(7)} c=${String(cell.concurrency).padEnd(3)}${rows} ${fixed(load.requestsPerSecond, 0)} req/s${ratio}, p50 ${fixed(load.latencyMs.p50, 2)} ms, p99 ${fixed(load.latencyMs.p99, 2)} ms, errors ${load.errors}${noisy}`;
}

/** The results table: throughput, ratio to health, latency, errors and D1 work per request. */
export function cellsTable(cells: readonly Cell[], withRows = false): Table {
  const header = [
    "workload",
    "conc",
    ...(withRows ? ["rows"] : []),
    "req/s",
    "x health",
    "p50 ms",
    "p99 ms",
    "errors",
    "D1 round trips/req",
    "D1 stmts/req",
    "DO calls/req",
    "CPU ms/req",
    "others' cores",
  ];
  const rows = cells.map((cell) => {
    const usage = perRequest(cell.usage);
    return [
      cell.workload,
      String(cell.concurrency),
      ...(withRows ? [cell.size.toLocaleString("en-US")] : []),
      fixed(cell.load.requestsPerSecond, 0),
      cell.ratioToHealth === null ? "-" : fixed(cell.ratioToHealth, 2),
      fixed(cell.load.latencyMs.p50, 2),
      fixed(cell.load.latencyMs.p99, 2),
      String(cell.load.errors + cell.mergePoolExhausted),
      usage.roundTrips,
      usage.statements,
      usage.objectCalls,
      cpuPerRequest(cell),
      othersCores(cell),
    ];
  });
  return { header, rows, left: 2 };
}

/** D1 work per outcome over the given cells. */
export function usageOf(cells: readonly Cell[]): UsageByOutcome {
  return cells.reduce<UsageByOutcome>((total, cell) => mergeUsage(total, cell.usage), {});
}

/** Round trips, statements and object calls per request kind (outcome), min/mean/max. */
export function usageTable(usage: UsageByOutcome): Table {
  const spread = (s: { min: number; mean: number; max: number }) =>
    s.min === s.max ? String(s.min) : `${s.min}..${s.max} (mean ${fixed(s.mean, 2)})`;
  const order = ["unchanged", "created", "linked", "merged"];
  const outcomes = Object.keys(usage).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
  });
  return {
    header: ["outcome", "requests", "D1 round trips", "D1 statements", "DO calls"],
    rows: outcomes.map((outcome) => {
      const u = usage[outcome];
      if (!u) return [outcome, "0", "-", "-", "-"];
      return [outcome, String(u.requests), spread(u.d1RoundTrips), spread(u.d1Statements), spread(u.objectCalls)];
    }),
    left: 1,
  };
}

/** A goal of the issue, checked against this run's figures. */
export type Goal = { goal: string; actual: string; met: boolean | null };

/** Throughput goals relative to `health`, per concurrency (null: not measured in this run). */
export function throughputGoals(cells: readonly Cell[]): Goal[] {
  const targets: [string, number][] = [
    ["repeat", 0.5],
    ["new", 0.3],
    ["link", 0.3],
  ];
  const goals: Goal[] = [];
  for (const [workload, target] of targets) {
    for (const cell of cells.filter((c) => c.workload === workload)) {
      goals.push({
        goal: `${workload} at c=${cell.concurrency}${cell.size ? ` (${cell.size.toLocaleString("en-US")} rows)` : ""} >= ${target} x health`,
        actual: cell.ratioToHealth === null ? "no health figure" : `${fixed(cell.ratioToHealth, 2)} x health`,
        met: cell.ratioToHealth === null ? null : cell.ratioToHealth >= target,
      });
    }
  }
  return goals;
}

/** Round-trip goals: 1 for a request that changes nothing, at most 2 for a write (kinds seen only). */
export function roundTripGoals(usage: UsageByOutcome, label: string): Goal[] {
  const goals: Goal[] = [];
  const check = (outcome: string, limit: number) => {
    const u = usage[outcome];
    if (!u) return;
    goals.push({
      goal: `${outcome}: <= ${limit} D1 round trip${limit === 1 ? "" : "s"} (${label})`,
      actual: u ? `max ${u.d1RoundTrips.max}, mean ${fixed(u.d1RoundTrips.mean, 2)} over ${u.requests}` : "not logged",
      met: u ? u.d1RoundTrips.max <= limit : null,
    });
  };
  check("unchanged", 1);
  for (const outcome of ["created", "linked", "merged"]) check(outcome, 2);
  return goals;
}

/** Scale goal: p50 latency at the largest size within 1.5x of the smallest, per workload and concurrency. */
export function scaleGoals(cells: readonly Cell[]): Goal[] {
  const sizes = [...new Set(cells.map((c) => c.size))].sort((a, b) => a - b);
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  if (smallest === undefined || largest === undefined || smallest === largest) return [];
  const goals: Goal[] = [];
  for (const cell of cells.filter((c) => c.size === largest && c.workload !== "health")) {
    const base = cells.find(
      (c) => c.size === smallest && c.workload === cell.workload && c.concurrency === cell.concurrency,
    );
    if (!base) continue;
    const ratio = cell.load.latencyMs.p50 / base.load.latencyMs.p50;
    goals.push({
      goal: `${cell.workload} c=${cell.concurrency}: p50 at ${largest.toLocaleString("en-US")} rows <= 1.5 x p50 at ${smallest.toLocaleString("en-US")}`,
      actual: `${fixed(cell.load.latencyMs.p50, 2)} ms vs ${fixed(base.load.latencyMs.p50, 2)} ms = ${fixed(ratio, 2)}x`,
      met: ratio <= 1.5,
    });
  }
  return goals;
}

export function goalsTable(goals: readonly Goal[]): Table {
  return {
    header: ["goal", "actual", "met"],
    rows: goals.map((g) => [g.goal, g.actual, g.met === null ? "n/a" : g.met ? "yes" : "NO"]),
    left: 3,
  };
}

/** One row per measured load of a fixed request (floors, runtime comparison). */
export function loadTable(
  label: string,
  entries: readonly { name: string; concurrency: number; result: LoadResult }[],
): Table {
  return {
    header: [label, "conc", "req/s", "p50 ms", "p99 ms", "errors"],
    rows: entries.map((e) => [
      e.name,
      String(e.concurrency),
      fixed(e.result.requestsPerSecond, 0),
      fixed(e.result.latencyMs.p50, 2),
      fixed(e.result.latencyMs.p99, 2),
      String(e.result.errors),
    ]),
    left: 2,
  };
}

/** Writes the run as JSON (creating the directory), returning the path written. */
export async function writeJson(file: string, data: unknown): Promise<string> {
  const target = path.resolve(ROOT, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, `${JSON.stringify(data, null, 2)}\n`);
  return target;
}

/** The floor operations each write kind is made of (besides our own code). */
const WRITE_FLOORS = ["/ratelimit", "/d1-read", "/object-call", "/d1-batch"];
const WRITE_KINDS = ["new", "link", "merge"];

/**
 * Each write kind at each concurrency against the sum of its floors measured in the
 * same run: the throughput a write would reach if it cost only its floor operations
 * one after the other (1 / the sum of their times per request).
 */
export function floorGoals(cells: readonly Cell[], floors: readonly Floor[], target = 0.8): Goal[] {
  const goals: Goal[] = [];
  for (const cell of cells.filter((c) => WRITE_KINDS.includes(c.workload) && c.concurrency > 1)) {
    const parts = WRITE_FLOORS.map((op) =>
      floors.find((f) => f.operation === op && f.concurrency === cell.concurrency),
    );
    const goal = `${cell.workload} at c=${cell.concurrency} >= ${target} x the sum of its floors`;
    if (parts.some((f) => f === undefined || f.result.requestsPerSecond === 0)) {
      goals.push({ goal, actual: "floors not measured at this concurrency", met: null });
      continue;
    }
    const seconds = parts.reduce((sum, f) => sum + 1 / (f?.result.requestsPerSecond ?? 1), 0);
    const ratio = cell.load.requestsPerSecond * seconds;
    goals.push({
      goal,
      actual: `${fixed(cell.load.requestsPerSecond, 0)} / ${fixed(1 / seconds, 0)} req/s = ${fixed(ratio, 2)}`,
      met: ratio >= target,
    });
  }
  return goals;
}

/** Server errors (5xx) of a cell. */
function serverErrors(cell: Cell): number {
  return Object.entries(cell.load.errorsByStatus).reduce(
    (n, [status, count]) => n + (/^5/.test(status) ? count : 0),
    0,
  );
}

/** This checkout's cells against another revision's, measured alternately in the same run. */
export function baselineTable(baseline: readonly Cell[], current: readonly Cell[], revision: string): Table {
  const rows: string[][] = [];
  for (const cell of current) {
    const base = baseline.find((b) => b.workload === cell.workload && b.concurrency === cell.concurrency);
    if (!base) continue;
    const ratio = base.load.requestsPerSecond > 0 ? cell.load.requestsPerSecond / base.load.requestsPerSecond : 0;
    rows.push([
      cell.workload,
      String(cell.concurrency),
      fixed(base.load.requestsPerSecond, 0),
      fixed(cell.load.requestsPerSecond, 0),
      `${fixed(ratio, 2)}x`,
      `${fixed(base.load.latencyMs.p99, 1)} / ${fixed(cell.load.latencyMs.p99, 1)}`,
      `${serverErrors(base)} / ${serverErrors(cell)}`,
    ]);
  }
  return {
    header: ["workload", "conc", `${revision} req/s`, "now req/s", "ratio", "p99 ms then / now", "5xx then / now"],
    rows,
    left: 2,
  };
}

/**
 * The goals against a baseline revision: `new` at 2x at c=16 and c=64, `hot` at 3x with
 * no 5xx, and p99 at c=64 no worse, each from cells of the same alternating run.
 */
export function baselineGoals(baseline: readonly Cell[], current: readonly Cell[], revision: string): Goal[] {
  const goals: Goal[] = [];
  for (const cell of current) {
    const base = baseline.find((b) => b.workload === cell.workload && b.concurrency === cell.concurrency);
    if (!base || base.load.requestsPerSecond === 0) continue;
    const ratio = cell.load.requestsPerSecond / base.load.requestsPerSecond;
    const speed = `${fixed(cell.load.requestsPerSecond, 0)} / ${fixed(base.load.requestsPerSecond, 0)} req/s = ${fixed(ratio, 2)}x`;
    if (cell.workload === "new" && (cell.concurrency === 16 || cell.concurrency === 64)) {
      goals.push({ goal: `new at c=${cell.concurrency} >= 2 x ${revision}`, actual: speed, met: ratio >= 2 });
    }
    if (cell.workload === "hot") {
      const errors = serverErrors(cell);
      goals.push({
        goal: `hot at c=${cell.concurrency} >= 3 x ${revision}, no 5xx`,
        actual: `${speed}, ${errors} 5xx`,
        met: ratio >= 3 && errors === 0,
      });
    }
    if (cell.concurrency === 64 && cell.workload !== "health") {
      goals.push({
        goal: `${cell.workload} p99 at c=64 <= ${revision}'s`,
        actual: `${fixed(cell.load.latencyMs.p99, 1)} ms vs ${fixed(base.load.latencyMs.p99, 1)} ms`,
        met: cell.load.latencyMs.p99 <= base.load.latencyMs.p99,
      });
    }
  }
  return goals;
}

/** Mean of one usage figure over every request of a cell (null when the Worker logged none). */
function meanUsage(cell: Cell, pick: (u: UsageByOutcome[string]) => number): number | null {
  const all = Object.values(cell.usage);
  const requests = all.reduce((n, u) => n + u.requests, 0);
  return requests === 0 ? null : all.reduce((sum, u) => sum + pick(u) * u.requests, 0) / requests;
}

/**
 * Merge protection goals, per concurrency measured: a cluster at the limit answers
 * `repeat` and `link` within 2x the p50 of a one-contact cluster, and `blocked` (a
 * placeholder phone with fresh emails) costs no more than `new`: no more D1 work, and a
 * p50 within 10% (the noise of two cells measured one after the other on a shared machine).
 */
export function protectionGoals(cells: readonly Cell[]): Goal[] {
  const goals: Goal[] = [];
  const find = (workload: string, concurrency: number) =>
    cells.find((c) => c.workload === workload && c.concurrency === concurrency && c.size === 0);
  const concurrencies = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b);
  for (const concurrency of concurrencies) {
    for (const [at, small] of [
      ["limit-repeat", "small-repeat"],
      ["limit-link", "small-link"],
    ] as const) {
      const a = find(at, concurrency);
      const b = find(small, concurrency);
      if (!a || !b) continue;
      const ratio = a.load.latencyMs.p50 / b.load.latencyMs.p50;
      goals.push({
        goal: `${at} p50 <= 2 x ${small} p50 at c=${concurrency}`,
        actual: `${fixed(a.load.latencyMs.p50, 2)} / ${fixed(b.load.latencyMs.p50, 2)} ms = ${fixed(ratio, 2)}x`,
        met: ratio <= 2,
      });
    }
    const blocked = find("blocked", concurrency);
    const fresh = find("new", concurrency);
    if (!blocked || !fresh) continue;
    const ratio = blocked.load.latencyMs.p50 / fresh.load.latencyMs.p50;
    goals.push({
      goal: `blocked p50 <= new p50 (10% noise) at c=${concurrency}`,
      actual: `${fixed(blocked.load.latencyMs.p50, 2)} / ${fixed(fresh.load.latencyMs.p50, 2)} ms = ${fixed(ratio, 2)}x`,
      met: ratio <= 1.1,
    });
    const work = [blocked, fresh].map((cell) => [
      meanUsage(cell, (u) => u.d1RoundTrips.mean),
      meanUsage(cell, (u) => u.d1Statements.mean),
    ]);
    const [[trips, statements], [newTrips, newStatements]] = work as [
      [number | null, number | null],
      [number | null, number | null],
    ];
    if (trips !== null && statements !== null && newTrips !== null && newStatements !== null) {
      goals.push({
        goal: `blocked D1 work <= new's at c=${concurrency}`,
        actual: `${fixed(trips, 2)} round trips, ${fixed(statements, 2)} statements vs ${fixed(newTrips, 2)}, ${fixed(newStatements, 2)}`,
        // A group commit shares its batch's one event-index statement among its calls, so
        // statements per request vary with how calls group: 0.05 of slack for that.
        met: trips <= newTrips + 1e-9 && statements <= newStatements + 0.05,
      });
    }
  }
  return goals;
}

import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Goal, serverErrors } from "./goals";
import type { ImportCell } from "./import";
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

/** The import against /identify, a row per size (/identify's total extrapolated from its sample's rate). */
export function importTable(cells: readonly ImportCell[]): Table {
  return {
    header: [
      "records",
      "import s",
      "import records/s",
      "peak RSS MiB",
      "/identify sample",
      "/identify records/s",
      "/identify s (all)",
      "ratio",
    ],
    rows: cells.map((cell) => [
      cell.records.toLocaleString("en-US"),
      fixed(cell.import.seconds, 1),
      fixed(cell.import.recordsPerSecond, 0),
      fixed(cell.import.peakRssBytes / 1024 ** 2, 0),
      cell.identify.records.toLocaleString("en-US"),
      fixed(cell.identify.recordsPerSecond, 0),
      `${fixed(cell.records / cell.identify.recordsPerSecond, 0)}${cell.extrapolated ? " (extrapolated)" : ""}`,
      `${fixed(cell.import.recordsPerSecond / cell.identify.recordsPerSecond, 1)}x`,
    ]),
    left: 1,
  };
}

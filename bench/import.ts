/**
 * `npm run bench -- --import`: `npm run import` of generated history into an empty local
 * database, at each size, against the same records sent through `/identify` at c=16 by the
 * import's own `--url` path, in the same run. The import runs as the command a person runs
 * (a child process), so its time includes reading, planning and loading, and its memory is
 * that of its whole process tree (Node and the workerd it starts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { collectRecords } from "../tools/import/collect";
import { localD1 } from "../tools/import/d1-local";
import { loadThroughService } from "../tools/import/load-service";
import { RejectsFile } from "../tools/import/rejects";
import { readSettings } from "../tools/import/settings";
import { writeHistoryFile } from "./history";
import { BENCH_TOKEN, ROOT, readMigrations, startRuntime } from "./runtime";

/** How an import command ended. */
export type ImportRun = {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** The most the process tree held at once. */
  peakRssBytes: number;
  /** The most each program of the tree (node, workerd, npm, sh) held at once, on its own. */
  peakRssByProgram: Record<string, number>;
};

/** The resident memory of `pid` and its descendants now, from /proc, and its part per program. */
function treeRss(pid: number): { total: number; byProgram: Record<string, number> } {
  let total = 0;
  const byProgram: Record<string, number> = {};
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return { total: 0, byProgram };
  }
  const rss = new Map<number, { name: string; bytes: number }>();
  for (const entry of entries) {
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const parent = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "?";
      rss.set(Number(entry), { name, bytes: kb * 1024 });
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while being read.
    }
  }
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop() ?? 0;
    const proc = rss.get(next);
    if (proc) {
      total += proc.bytes;
      byProgram[proc.name] = (byProgram[proc.name] ?? 0) + proc.bytes;
    }
    stack.push(...(children.get(next) ?? []));
  }
  return { total, byProgram };
}

/** A running `npm run import`: the child (in a process group of its own) and how it ends. */
export type ImportProcess = { child: ChildProcess; done: Promise<ImportRun> };

/**
 * Starts `npm run import -- <args>` (package.json's command, with its Node options), in a
 * process group of its own (so that a test can kill it and the workerd under it at once),
 * sampling the tree's memory.
 */
export function startImport(args: string[], env: Record<string, string> = {}): ImportProcess {
  const started = Date.now();
  const child = spawn("npm", ["run", "--silent", "import", "--", ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let peakRssBytes = 0;
  const peakRssByProgram: Record<string, number> = {};
  const sampler = setInterval(() => {
    if (child.pid === undefined) return;
    const now = treeRss(child.pid);
    peakRssBytes = Math.max(peakRssBytes, now.total);
    for (const [name, bytes] of Object.entries(now.byProgram)) {
      peakRssByProgram[name] = Math.max(peakRssByProgram[name] ?? 0, bytes);
    }
  }, 250);
  const done = new Promise<ImportRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(sampler);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000, peakRssBytes, peakRssByProgram });
    });
  });
  return { child, done };
}

/** Runs `npm run import -- <args>` to its end. */
export function runImport(args: string[], env?: Record<string, string>): Promise<ImportRun> {
  return startImport(args, env).done;
}

/** One size of the import bench. */
export type ImportCell = {
  records: number;
  /** The import into an empty local database: wall time of the command, its rate, its tree's peak memory. */
  import: { seconds: number; recordsPerSecond: number; peakRssBytes: number; peakRssByProgram: Record<string, number> };
  /** The first `records` of the same file through /identify at `concurrency`, and the rate it ran at. */
  identify: { records: number; concurrency: number; seconds: number; recordsPerSecond: number };
  /** True when /identify got a sample only: its time for every record is extrapolated from the sample's rate. */
  extrapolated: boolean;
};

export type ImportBenchOptions = {
  sizes: number[];
  /** Records sent through /identify per size at most (a sample, extrapolated, when smaller than the size). */
  identifySample: number;
  concurrency: number;
  /** Scratch directory for the generated files and databases. */
  dir: string;
  onCell?: (cell: ImportCell) => void;
};

/** Fails with the command's output unless it exited 0. */
function succeeded(run: ImportRun, what: string): ImportRun {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.stdout}\n${run.stderr.slice(-4000)}`);
  return run;
}

/** An empty local database with the migrations applied under `store` (a --persist-to directory). */
async function emptyStore(store: string): Promise<void> {
  await rm(store, { recursive: true, force: true });
  await mkdir(store, { recursive: true });
  const db = await localD1(store);
  try {
    await db.transaction(await readMigrations());
  } finally {
    await db.close();
  }
}

/**
 * The records of `file` sent through a fresh Worker's /identify by the import's `--url`
 * path (loadThroughService), timed from the first request to the last answer.
 */
async function throughIdentify(file: string, stateDir: string, concurrency: number): Promise<ImportCell["identify"]> {
  const rejects = new RejectsFile(`${file}.rejects.csv`);
  const counters = { bytes: 0, read: 0, applied: 0, rejected: 0 };
  const collected = await collectRecords(file, readSettings().blockList, rejects, counters);
  const runtime = await startRuntime({ stateDir });
  try {
    const started = Date.now();
    await loadThroughService(
      { url: runtime.url.origin, token: BENCH_TOKEN, concurrency },
      collected.kept,
      0,
      { stateFile: `${file}.import-state.json`, digest: collected.digest },
      rejects,
      () => {},
    );
    const seconds = (Date.now() - started) / 1000;
    return { records: collected.read, concurrency, seconds, recordsPerSecond: collected.read / seconds };
  } finally {
    await runtime.stop();
    await rejects.discard();
  }
}

/**
 * For each size: a generated file (seed 1, about three orders per customer; its sample has
 * the same customers, so that it is the file's beginning), imported into an empty local database; then its first
 * `identifySample` records through a fresh Worker's /identify.
 */
export async function runImportBench(options: ImportBenchOptions): Promise<ImportCell[]> {
  const cells: ImportCell[] = [];
  await mkdir(options.dir, { recursive: true });
  for (const records of options.sizes) {
    const customers = Math.ceil(records / 3);
    const file = path.join(options.dir, `history-${records}.csv`);
    await writeHistoryFile(file, { records, customers });
    const store = path.join(options.dir, `store-${records}`);
    await emptyStore(store);
    const imported = succeeded(
      await runImport([file, "--persist-to", store, "--rejects", `${file}.rejects.csv`]),
      "npm run import",
    );

    const sampled = Math.min(records, options.identifySample);
    const sample = path.join(options.dir, `sample-${records}.csv`);
    await writeHistoryFile(sample, { records: sampled, customers });
    const identify = await throughIdentify(sample, path.join(options.dir, `identify-${records}`), options.concurrency);
    const cell: ImportCell = {
      records,
      import: {
        seconds: imported.seconds,
        recordsPerSecond: records / imported.seconds,
        peakRssBytes: imported.peakRssBytes,
        peakRssByProgram: imported.peakRssByProgram,
      },
      identify,
      extrapolated: sampled < records,
    };
    cells.push(cell);
    options.onCell?.(cell);
    for (const done of [store, file, sample, `${file}.rejects.csv`]) await rm(done, { recursive: true, force: true });
  }
  return cells;
}

/** The /identify path the import is compared with: the c=16. */
export const IMPORT_IDENTIFY_CONCURRENCY = 16;

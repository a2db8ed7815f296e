import { DEFAULT_CLUSTER_LIMIT } from "../src/domain/limits";
import { type CpuSample, otherCores, ownCores, sampleCpu } from "./cpu";
import { clusterEmail, clusterPhone, Dataset, loadUniform, progressBar } from "./dataset";
import { type LoadResult, runLoad } from "./load";
import { explainStatements, fullScans, type QueryPlan } from "./plans";
import { mergeUsage, type UsageByOutcome } from "./request-log";
import { BENCH_TOKEN, type Runtime } from "./runtime";
import { MergePool, type WorkloadName, Workloads } from "./workloads";

/** One workload at one concurrency (and, for --scale, one table size). */
export type Cell = {
  workload: WorkloadName;
  concurrency: number;
  /** The table size a --scale step grew the table to (0 in a standard run). */
  size: number;
  /** Preloaded contacts in the table when the cell ran. */
  tableRows: number;
  load: LoadResult;
  /** requests/s over `health` at the same concurrency (and size) in the same run. */
  ratioToHealth: number | null;
  /** D1 work per outcome, from the Worker's request log (empty if it logs none). */
  usage: UsageByOutcome;
  /** Merge requests that found no unmerged pair left (sent as `new`). */
  mergePoolExhausted: number;
  /**
   * Cores kept busy during the measured window by this process tree (load generator +
   * workerd) and by everything else on the machine (null where /proc is missing).
   */
  cpu: { ownCores: number | null; otherCores: number | null };
};

/** How long a cell runs, and headers sent with its requests besides the bench's own. */
type Timing = { warmupMs: number; durationMs: number; headers?: Record<string, string> };

/** Headers of every request: the bench authenticates like any caller. */
const BENCH_HEADERS = {
  authorization: `Bearer ${BENCH_TOKEN}`,
  "content-type": "application/json",
};

/** Rows preloaded for each of `repeat`, `link` and `hot` in a standard run (clusters of 1 to 20). */
const STANDARD_ROWS = 21_000;
/** Rows preloaded for each of `small-*` (one-contact clusters) and `limit-*` (clusters at the limit). */
export const UNIFORM_ROWS = 10_000;
/** Write rate assumed before any write workload ran, to size a merge pool (generous). */
const DEFAULT_WRITE_RATE = 3_000;

/**
 * Runs one workload at one concurrency and reads back what the Worker logged for it.
 */
async function runCell(
  runtime: Runtime,
  workloads: Workloads,
  merges: MergePool,
  workload: WorkloadName,
  concurrency: number,
  timing: Timing,
  size: number,
): Promise<Cell> {
  runtime.log.take(); // lines from before this cell (preloads log nothing, but be sure)
  const exhaustedBefore = merges.exhausted;
  // CPU readings at the edges of the measured window (warm-up and drain excluded).
  let windowStart: CpuSample | null = null;
  let windowEnd: CpuSample | null = null;
  const startTimer = setTimeout(() => (windowStart = sampleCpu()), timing.warmupMs);
  const endTimer = setTimeout(() => (windowEnd = sampleCpu()), timing.warmupMs + timing.durationMs);
  const load = await runLoad({
    url: runtime.url,
    concurrency,
    warmupMs: timing.warmupMs,
    durationMs: timing.durationMs,
    headers: { ...BENCH_HEADERS, ...timing.headers },
    next: workloads.generator(workload),
  }).finally(() => {
    clearTimeout(startTimer);
    clearTimeout(endTimer);
  });
  await runtime.log.settle(load.sent);
  return {
    workload,
    concurrency,
    size,
    tableRows: merges.dataset.preloadedRows,
    load,
    ratioToHealth: null,
    usage: runtime.log.take(),
    mergePoolExhausted: merges.exhausted - exhaustedBefore,
    cpu: { ownCores: ownCores(windowStart, windowEnd), otherCores: otherCores(windowStart, windowEnd) },
  };
}

/** Fills in `ratioToHealth` from the `health` cell of the same concurrency and size. */
function addRatios(cells: Cell[]): void {
  for (const cell of cells) {
    const health = cells.find(
      (c) => c.workload === "health" && c.concurrency === cell.concurrency && c.size === cell.size,
    );
    cell.ratioToHealth =
      health && health.load.requestsPerSecond > 0 ? cell.load.requestsPerSecond / health.load.requestsPerSecond : null;
  }
}

/**
 * Merge pairs to preload before a cell: every merge uses up two clusters, so the
 * pool must outlast the cell at the fastest rate the writes could reach.
 */
function mergePairsNeeded(workload: WorkloadName, writeRate: number, timing: Timing): number {
  const share = workload === "merge" ? 1 : workload === "mixed" ? 0.05 : 0;
  const seconds = (timing.warmupMs + timing.durationMs) / 1000;
  return Math.ceil(share * writeRate * seconds);
}

export type StandardOptions = Timing & {
  workloads: readonly WorkloadName[];
  concurrency: readonly number[];
  onCell?: (cell: Cell) => void;
  quiet?: boolean;
};

/** Preloads the clusters `repeat` and `link` use, and an empty merge pool. */
async function prepareStandard(
  runtime: Runtime,
  quiet = false,
): Promise<{ dataset: Dataset; workloads: Workloads; merges: MergePool }> {
  const dataset = new Dataset(runtime.db);
  const progress = (label: string) => (quiet ? undefined : progressBar(label, STANDARD_ROWS));
  const repeatRegion = await dataset.load(STANDARD_ROWS, progress("preload repeat"));
  const linkRegion = await dataset.load(STANDARD_ROWS, progress("preload link  "));
  const hotRegion = await dataset.load(STANDARD_ROWS, progress("preload hot   "));
  const merges = new MergePool(dataset);
  // The merge protection workloads: one-contact clusters beside clusters at the email limit
  // (wrangler.toml's, the default), 10,000 rows each.
  const small = await loadUniform(runtime.db, 1, UNIFORM_ROWS, 1);
  const full = await loadUniform(runtime.db, 2, UNIFORM_ROWS / DEFAULT_CLUSTER_LIMIT, DEFAULT_CLUSTER_LIMIT);
  const workloads = new Workloads({
    repeat: repeatRegion.clusters,
    link: linkRegion.clusters,
    hot: hotRegion.clusters,
    merges,
    small,
    full,
  });
  return { dataset, workloads, merges };
}

/** One runtime under measurement, with its own data and the cells measured on it so far. */
export type Contender = { runtime: Runtime; workloads: Workloads; merges: MergePool; cells: Cell[] };

/** `runtime` with the standard run's data preloaded, ready for `measure`. */
export async function contender(runtime: Runtime, quiet = false): Promise<Contender> {
  const { workloads, merges } = await prepareStandard(runtime, quiet);
  return { runtime, workloads, merges, cells: [] };
}

/** `health` first: the other cells' ratios need it. */
function standardOrder(workloads: readonly WorkloadName[]): WorkloadName[] {
  return [...workloads].sort((a, b) => Number(b === "health") - Number(a === "health"));
}

/** Measures one cell on one contender, preloading merge pairs first if the workload needs them. */
export async function measure(
  target: Contender,
  workload: WorkloadName,
  concurrency: number,
  options: StandardOptions,
): Promise<Cell> {
  // Merges run about as fast as the other writes: size the pool from those, with a wide
  // margin (a busy machine can slow one cell and not the next).
  const writeRates = target.cells
    .filter((c) => (c.workload === "link" || c.workload === "new") && c.concurrency === concurrency)
    .map((c) => c.load.requestsPerSecond * 4);
  const writeRate = writeRates.length > 0 ? Math.max(...writeRates) : DEFAULT_WRITE_RATE;
  await target.merges.ensure(
    mergePairsNeeded(workload, writeRate, options),
    options.quiet ? undefined : (total) => progressBar("preload merge ", total),
  );
  const cell = await runCell(target.runtime, target.workloads, target.merges, workload, concurrency, options, 0);
  target.cells.push(cell);
  addRatios(target.cells);
  options.onCell?.(cell);
  return cell;
}

/**
 * The standard run: preloads clusters for `repeat`, `link` and `hot` (and merge pairs
 * as needed), then runs each workload at each concurrency, `health` first.
 */
export async function runStandard(runtime: Runtime, options: StandardOptions): Promise<Cell[]> {
  const target = await contender(runtime, options.quiet);
  for (const workload of standardOrder(options.workloads)) {
    for (const concurrency of options.concurrency) await measure(target, workload, concurrency, options);
  }
  return target.cells;
}

/**
 * The standard run on several runtimes at once (e.g. another revision's Worker beside
 * this one): each cell runs on every runtime back to back, `rounds` times, the order
 * swapped from one turn to the next, so that all of them see the same machine and the
 * same load from other processes. Returns each runtime's cells (rounds combined), in
 * the order of `runtimes`.
 */
export async function runAlternating(
  runtimes: readonly Runtime[],
  options: StandardOptions & { rounds: number },
  onCell?: (cell: Cell, runtimeIndex: number) => void,
): Promise<Cell[][]> {
  const targets: Contender[] = [];
  for (const runtime of runtimes) targets.push(await contender(runtime, options.quiet));
  let turn = 0;
  const combined: Cell[][] = targets.map(() => []);
  for (const workload of standardOrder(options.workloads)) {
    for (const concurrency of options.concurrency) {
      const rounds: Cell[][] = targets.map(() => []);
      for (let round = 0; round < options.rounds; round++) {
        const order = turn++ % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const index = targets.indexOf(target);
          const cell = await measure(target, workload, concurrency, options);
          rounds[index]?.push(cell);
          onCell?.(cell, index);
        }
      }
      for (const [index, cells] of rounds.entries()) combined[index]?.push(combineRounds(cells));
    }
  }
  for (const cells of combined) addRatios(cells);
  return combined;
}

/**
 * One cell from several rounds of the same workload and concurrency: requests and time
 * summed (so req/s is over all rounds), errors and D1 work added up, latency
 * percentiles and CPU readings averaged over the rounds (the samples are not kept).
 */
function combineRounds(cells: readonly Cell[]): Cell {
  const [first, ...rest] = cells;
  if (!first || rest.length === 0) {
    if (!first) throw new Error("no rounds to combine");
    return first;
  }
  const mean = (pick: (cell: Cell) => number | null) => {
    const values = cells.map(pick).filter((v): v is number => v !== null);
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  };
  const requests = cells.reduce((n, c) => n + c.load.requests, 0);
  const seconds = cells.reduce((n, c) => n + c.load.seconds, 0);
  const errorsByStatus: Record<string, number> = {};
  for (const cell of cells) {
    for (const [status, count] of Object.entries(cell.load.errorsByStatus)) {
      errorsByStatus[status] = (errorsByStatus[status] ?? 0) + count;
    }
  }
  return {
    ...first,
    load: {
      requests,
      seconds,
      requestsPerSecond: seconds > 0 ? requests / seconds : 0,
      latencyMs: {
        p50: mean((c) => c.load.latencyMs.p50) ?? 0,
        p99: mean((c) => c.load.latencyMs.p99) ?? 0,
        mean: mean((c) => c.load.latencyMs.mean) ?? 0,
        max: Math.max(...cells.map((c) => c.load.latencyMs.max)),
      },
      errors: cells.reduce((n, c) => n + c.load.errors, 0),
      errorsByStatus,
      sent: cells.reduce((n, c) => n + c.load.sent, 0),
    },
    usage: cells.reduce<UsageByOutcome>((total, cell) => mergeUsage(total, cell.usage), {}),
    mergePoolExhausted: cells.reduce((n, c) => n + c.mergePoolExhausted, 0),
    cpu: { ownCores: mean((c) => c.cpu.ownCores), otherCores: mean((c) => c.cpu.otherCores) },
  };
}

export type ScaleOptions = Timing & {
  sizes: readonly number[];
  concurrency: readonly number[];
  onCell?: (cell: Cell) => void;
  quiet?: boolean;
};

export type ScaleResult = { cells: Cell[]; plans: QueryPlan[]; fullScans: string[] };

/**
 * Grows the table to each size in turn (bulk SQL, cumulative), and at each size
 * measures `health`, `repeat` and `link` over clusters drawn from the whole table.
 * Ends with the query plans of the service's statements on the largest table.
 */
export async function runScale(runtime: Runtime, options: ScaleOptions): Promise<ScaleResult> {
  const dataset = new Dataset(runtime.db);
  const merges = new MergePool(dataset);
  const clusters: number[] = [];
  const workloads = new Workloads({ repeat: clusters, link: clusters, hot: clusters, merges });
  const cells: Cell[] = [];
  for (const size of [...options.sizes].sort((a, b) => a - b)) {
    const rows = size - dataset.preloadedRows;
    if (rows > 0) {
      const region = await dataset.load(
        rows,
        options.quiet ? undefined : progressBar(`preload ${size.toLocaleString("en-US").padStart(9)}`, rows),
      );
      // The workloads hold this array: growing it in place widens their targets.
      for (const cluster of region.clusters) clusters.push(cluster);
    }
    for (const workload of ["health", "repeat", "link"] as const) {
      for (const concurrency of options.concurrency) {
        const cell = await runCell(runtime, workloads, merges, workload, concurrency, options, size);
        cells.push(cell);
        addRatios(cells);
        options.onCell?.(cell);
      }
    }
  }
  const sample = clusters[Math.floor(clusters.length / 2)] ?? 0;
  const plans = await explainStatements(runtime.db, { email: clusterEmail(sample), phoneNumber: clusterPhone(sample) });
  return { cells, plans, fullScans: fullScans(plans) };
}

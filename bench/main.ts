/**
 * `npm run bench [-- options]`: starts the Worker locally (workerd via the Miniflare
 * API, local D1, the real Durable Objects), runs the workloads, prints a table,
 * writes JSON, and stops what it started. See BENCHMARKS.md.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { type Checkout, checkoutRevision } from "./baseline";
import { waitForQuiet } from "./cpu";
import { feedMain } from "./feed";
import { measureFloors } from "./floors";
import {
  baselineGoals,
  floorGoals,
  type Goal,
  importGoals,
  protectionCheck,
  protectionGoals,
  roundTripGoals,
  scaleGoals,
  throughputGoals,
} from "./goals";
import { IMPORT_IDENTIFY_CONCURRENCY, runImportBench } from "./import";
import { latencyMain, parseDelays } from "./latency";
import { repairMain } from "./repair";
import {
  baselineTable,
  cellLine,
  cellsTable,
  describe,
  describeMachine,
  goalsTable,
  importTable,
  loadTable,
  NOISY_OTHER_CORES,
  renderMarkdown,
  renderText,
  type Table,
  usageOf,
  usageTable,
  writeJson,
} from "./report";
import { type Cell, runAlternating, runScale, runStandard } from "./runs";
import { DEFAULT_STATE_DIR, type Runtime, startRuntime, stopRuntimesOnSignals } from "./runtime";
import { webhooksMain } from "./webhooks";
import { WORKLOADS, type WorkloadName } from "./workloads";

const USAGE = `usage: npm run bench -- [options]
  --duration <s>        measured seconds per workload and concurrency (default 5)
  --warmup <s>          unmeasured seconds before each (default 1)
  --concurrency <list>  comma-separated (default 1,16,64)
  --workloads <list>    subset of ${WORKLOADS.join(",")} (default: all)
  --scale               measure repeat and link as the table grows (and the query plans)
  --sizes <list>        table sizes for --scale (default 10000,100000,1000000)
  --floors              also measure each operation of a request alone on a bare Worker
  --baseline <git-rev>  also run every cell on that revision's Worker, alternating, and report the ratio
  --rounds <n>          with --baseline: alternate each cell this many times, summed (default 3)
  --latency             the latency model instead: near and far callers against a single-region server
  --import              npm run import instead: generated history into an empty local database, against /identify at c=16
  --import-sizes <list> records per import (default 100000,1000000)
  --import-sample <n>   records sent through /identify per size at most; fewer than the size: extrapolated (default 20000)
  --delays <list>       its round trips, e.g. worker-primary.far=150,object-d1=2 (see bench/latency.ts)
  --feed                GET /events instead: pages of limit=1000 at both ends of a table of --feed-events events
  --feed-events <n>     events in the table for --feed (default 1000000)
  --repair              merge repair instead: graph and explain beside /lookup, and unmerge, on clusters at the limits
  --webhooks            webhook delivery instead: mixed c=16 with and without a local receiver, alternating --rounds times
  --state-dir <dir>     local D1 and Durable Object state, wiped at start (default ${DEFAULT_STATE_DIR})
  --wait-quiet <s>      wait up to this long for other processes to leave the CPU idle (default 60, 0: don't)
  --out <file>          JSON output, and Markdown beside it (default bench/results/latest.json, or scale.json)
  --keep-state          keep the state directory after the run`;

function numbers(list: string, name: string): number[] {
  const values = list.split(",").map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new Error(`--${name} must be a comma-separated list of positive numbers, got "${list}"`);
  }
  return values;
}

/** `--import`: the import bench, its table and goals, to the terminal and to <out> (JSON and Markdown). */
async function importMain(options: {
  sizes: number[];
  identifySample: number;
  dir: string;
  out: string;
  header: string;
}): Promise<void> {
  const cells = await runImportBench({
    ...options,
    concurrency: IMPORT_IDENTIFY_CONCURRENCY,
    onCell: (cell) =>
      console.log(
        `import ${cell.records} records: ${cell.import.seconds.toFixed(1)} s, ${cell.import.recordsPerSecond.toFixed(0)} records/s, peak RSS ${(cell.import.peakRssBytes / 1024 ** 2).toFixed(0)} MiB; /identify ${cell.identify.recordsPerSecond.toFixed(0)} records/s over ${cell.identify.records}`,
      ),
  });
  const goals = importGoals(cells);
  const method =
    "Each size: a generated file (bench/history.ts) imported by `npm run import` as a child process into an empty local D1 " +
    "(wall time of the command, peak RSS of its process tree sampled from /proc every 250 ms); then the first records of " +
    `the same file, at most ${options.identifySample.toLocaleString("en-US")}, sent through a fresh Worker's /identify by the ` +
    `import's --url path at c=${IMPORT_IDENTIFY_CONCURRENCY}; its time for every record is extrapolated from that rate.`;
  console.log(`\n${renderText(importTable(cells))}\n\ngoals\n${renderText(goalsTable(goals))}`);
  const file = await writeJson(options.out, { header: options.header, method, cells, goals });
  await writeFile(
    `${file.replace(/\.json$/, "")}.md`,
    `${options.header} ${method}\n\n${renderMarkdown(importTable(cells))}\n\n${renderMarkdown(goalsTable(goals))}\n`,
  );
  console.log(`\nwrote ${file} and its .md`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      concurrency: { type: "string", default: "1,16,64" },
      workloads: { type: "string", default: WORKLOADS.join(",") },
      scale: { type: "boolean", default: false },
      sizes: { type: "string", default: "10000,100000,1000000" },
      floors: { type: "boolean", default: false },
      baseline: { type: "string" },
      rounds: { type: "string", default: "3" },
      latency: { type: "boolean", default: false },
      import: { type: "boolean", default: false },
      "import-sizes": { type: "string", default: "100000,1000000" },
      "import-sample": { type: "string", default: "20000" },
      webhooks: { type: "boolean", default: false },
      feed: { type: "boolean", default: false },
      "feed-events": { type: "string", default: "1000000" },
      repair: { type: "boolean", default: false },
      delays: { type: "string" },
      "state-dir": { type: "string", default: DEFAULT_STATE_DIR },
      "wait-quiet": { type: "string", default: "60" },
      out: { type: "string" },
      "keep-state": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const durationMs = numbers(values.duration, "duration")[0] ?? 5;
  const timing = {
    durationMs: durationMs * 1000,
    warmupMs: Number(values.warmup) * 1000,
  };
  const concurrency = numbers(values.concurrency, "concurrency");
  const workloads = values.workloads.split(",").map((w) => w.trim());
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload "${w}"\n${USAGE}`);
  }

  const machine = describeMachine();
  console.log(`machine: ${describe(machine)}`);
  const waitQuietS = Number(values["wait-quiet"]);
  if (waitQuietS > 0) {
    // Two cores: another process busy during a run halves what workerd can get.
    let told = false;
    const others = await waitForQuiet(NOISY_OTHER_CORES, 3_000, waitQuietS * 1000, (cores) => {
      if (!told)
        console.log(`waiting up to ${waitQuietS}s for other processes to go quiet (now ${cores.toFixed(2)} cores)...`);
      told = true;
    });
    if (others !== null && others > NOISY_OTHER_CORES) {
      console.log(`other processes still use ${others.toFixed(2)} cores: figures will be low and noisy`);
    }
  }
  stopRuntimesOnSignals();
  const stateDir = values["state-dir"];
  if (values.latency) {
    await latencyMain({
      delays: parseDelays(values.delays),
      timing,
      stateDir,
      keepState: values["keep-state"],
      out: values.out ?? "bench/results/latency.json",
      header: `Run of ${new Date().toISOString()}: ${describe(machine)}; ${timing.durationMs / 1000} s per cell after ${timing.warmupMs / 1000} s warm-up. Modelled: delays injected around the bindings, not measured on a network.`,
    });
    return;
  }
  if (values.import) {
    await importMain({
      sizes: numbers(values["import-sizes"], "import-sizes"),
      identifySample: numbers(values["import-sample"], "import-sample")[0] ?? 20_000,
      dir: path.join(path.dirname(stateDir), "import"),
      out: values.out ?? "bench/results/import.json",
      header: `Run of ${new Date().toISOString()}: ${describe(machine)}.`,
    });
    return;
  }
  if (values.feed) {
    await feedMain({
      events: numbers(values["feed-events"], "feed-events")[0] ?? 1_000_000,
      pages: 100,
      stateDir,
      keepState: values["keep-state"],
      out: values.out ?? "bench/results/feed.json",
      header: `Run of ${new Date().toISOString()}: ${describe(machine)}.`,
    });
    return;
  }
  if (values.repair) {
    await repairMain({
      samples: 200,
      unmerges: 10,
      stateDir,
      keepState: values["keep-state"],
      out: values.out ?? "bench/results/repair.json",
      header: `Run of ${new Date().toISOString()}: ${describe(machine)}; one request at a time, p50 of 5 rounds of 40 alternating.`,
    });
    return;
  }
  if (values.webhooks) {
    await webhooksMain({
      timing,
      rounds: numbers(values.rounds, "rounds")[0] ?? 3,
      stateDir,
      keepState: values["keep-state"],
      out: values.out ?? "bench/results/webhooks.json",
      header: `Run of ${new Date().toISOString()}: ${describe(machine)}; \`mixed\` c=16, ${timing.durationMs / 1000} s per cell after ${timing.warmupMs / 1000} s warm-up, with and without push alternating, ${values.rounds} rounds each.`,
    });
    return;
  }
  console.log("building the Worker (wrangler deploy --dry-run) and starting workerd...");
  let checkout: Checkout | undefined;
  let baseline: Runtime | undefined;
  const runtime = await startRuntime({ keepState: values["keep-state"], stateDir });
  const startedAt = new Date().toISOString();
  try {
    if (values.baseline !== undefined) {
      if (values.scale) throw new Error("--baseline goes with a standard run only");
      checkout = await checkoutRevision(values.baseline);
      console.log(
        `building and starting ${values.baseline} (${checkout.commit.slice(0, 12)}) from ${checkout.root}...`,
      );
      baseline = await startRuntime({
        root: checkout.root,
        keepState: values["keep-state"],
        stateDir: `${stateDir}-baseline`,
      });
    }
    console.log(`serving on ${runtime.url.origin} (workerd socket bound straight to the Worker)`);
    const floors = values.floors
      ? await measureFloors(
          path.dirname(stateDir),
          concurrency.filter((c) => c > 1),
          timing,
          (f) =>
            console.log(
              `floor ${f.operation} c=${f.concurrency}: ${f.result.requestsPerSecond.toFixed(0)} req/s, p50 ${f.result.latencyMs.p50.toFixed(2)} ms`,
            ),
        )
      : undefined;
    const onCell = (cell: Cell) => console.log(cellLine(cell));
    // Each section goes to the terminal as text and to <out>.md as Markdown (for BENCHMARKS.md).
    const markdown: string[] = [
      `Run of ${startedAt}: ${describe(machine)}; ${timing.durationMs / 1000} s per cell after ${timing.warmupMs / 1000} s warm-up; state in ${stateDir}.`,
    ];
    const section = (title: string, table: Table) => {
      console.log(`\n${title}\n${renderText(table)}`);
      markdown.push(`#### ${title}\n\n${renderMarkdown(table)}`);
    };
    if (floors)
      section(
        "floors: one operation on a bare Worker",
        loadTable(
          "operation",
          floors.map((f) => ({ ...f, name: f.operation })),
        ),
      );

    let cells: Cell[];
    let extra: Record<string, unknown> = {};
    const goals: Goal[] = [];
    if (values.scale) {
      const scale = await runScale(runtime, { ...timing, sizes: numbers(values.sizes, "sizes"), concurrency, onCell });
      cells = scale.cells;
      extra = { plans: scale.plans, fullScans: scale.fullScans };
      section("results by table size", cellsTable(cells, true));
      const plans = scale.plans
        .map((plan) => `${plan.name}\n${plan.plan.map((step) => `  ${step}`).join("\n")}`)
        .join("\n");
      console.log(`\nquery plans on the largest table:\n${plans}`);
      markdown.push(`#### query plans on the largest table\n\n\`\`\`\n${plans}\n\`\`\``);
      goals.push(...scaleGoals(cells), {
        goal: "no full scan of contacts on a request path",
        actual: scale.fullScans.length === 0 ? "none" : scale.fullScans.join("; "),
        met: scale.fullScans.length === 0,
      });
    } else if (baseline && checkout) {
      const label = `${checkout.revision} (${checkout.commit.slice(0, 7)})`;
      const options = { ...timing, workloads: workloads as WorkloadName[], concurrency };
      const names = [checkout.revision, "now"];
      const [then = [], now = []] = await runAlternating(
        [baseline, runtime],
        { ...options, rounds: numbers(values.rounds, "rounds")[0] ?? 3 },
        (cell, index) => console.log(`${(names[index] ?? "").padEnd(8)} ${cellLine(cell)}`),
      );
      cells = now;
      section(`results, ${label}`, cellsTable(then));
      section("results, this checkout", cellsTable(now));
      section(`this checkout against ${label}, alternating in one run`, baselineTable(then, now, checkout.revision));
      goals.push(...baselineGoals(then, now, checkout.revision));
      extra = { baseline: { revision: checkout.revision, commit: checkout.commit, cells: then } };
    } else {
      cells = await runStandard(runtime, { ...timing, workloads: workloads as WorkloadName[], concurrency, onCell });
      section("results", cellsTable(cells));
      goals.push(...protectionGoals(cells));
      if (cells.some((c) => c.workload === "blocked" || c.workload === "limit-link")) {
        goals.push(await protectionCheck(runtime));
      }
    }
    if (floors) goals.push(...floorGoals(cells, floors));
    const usage = usageOf(cells);
    const sequential = usageOf(cells.filter((c) => c.concurrency === 1));
    if (runtime.log.total === 0) {
      console.log("\nD1 round trips: the Worker logged no request lines, so none could be counted.");
    } else {
      // Concurrency 1 alone is in the goals (and the JSON): its table would repeat this one.
      section("D1 work per request kind", usageTable(usage));
    }
    goals.push(
      ...throughputGoals(cells),
      ...roundTripGoals(sequential, "concurrency 1"),
      ...roundTripGoals(usage, "all concurrencies"),
    );
    section("goals", goalsTable(goals));
    if (runtime.log.errors.length > 0)
      console.log(`\nWorker errors (first ${runtime.log.errors.length}):\n${runtime.log.errors.join("\n")}`);

    const file = await writeJson(
      values.out ?? (values.scale ? "bench/results/scale.json" : "bench/results/latest.json"),
      {
        startedAt,
        machine,
        runtime: "Miniflare API (workerd), Worker bundled by wrangler deploy --dry-run, direct socket",
        settings: { ...timing, concurrency, workloads, scale: values.scale, stateDir },
        cells,
        roundTrips: { all: usage, concurrency1: sequential, requestLinesSeen: runtime.log.total },
        goals,
        floors,
        ...extra,
      },
    );
    await writeFile(`${file.replace(/\.json$/, "")}.md`, `${markdown.join("\n\n")}\n`);
    console.log(`\nwrote ${file} and its .md`);
  } finally {
    await runtime.stop();
    await baseline?.stop();
    await checkout?.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});

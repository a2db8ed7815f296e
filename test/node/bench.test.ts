import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkoutRevision } from "../../bench/baseline";
import { feedGoals, runFeedBench } from "../../bench/feed";
import { FLOOR_OPERATIONS, measureFloors } from "../../bench/floors";
import { importGoals, protectionCheck } from "../../bench/goals";
import { runImportBench } from "../../bench/import";
import { LATENCY_ENTRY, LATENCY_KINDS, type LatencyCell, parseDelays, runLatency } from "../../bench/latency";
import { repairGoals, runRepairBench } from "../../bench/repair";
import { type Cell, runAlternating, runScale, runStandard } from "../../bench/runs";
import { type Runtime, startRuntime } from "../../bench/runtime";
import { runWebhookBench, webhookGoals } from "../../bench/webhooks";
import { EXPECTED_OUTCOME, WORKLOADS } from "../../bench/workloads";

// Keeps `npm run bench` from rotting: every workload runs for a second through the same
// harness (build, workerd, preload, load, request log), and must succeed throughout; so
// does every operation of `--floors`, the yardstick that write throughput is judged by.
// Throughput is not asserted: it depends on the machine and on what else runs on it.

let scratch: string;
let runtime: Runtime | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "bench-smoke-"));
  runtime = await startRuntime({ stateDir: path.join(scratch, "state"), buildDir: path.join(scratch, "build") });
});

afterAll(async () => {
  await runtime?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("npm run bench", () => {
  let cells: Cell[] = [];

  it("runs every workload for a second with no errors", async () => {
    if (!runtime) throw new Error("the runtime did not start");
    cells = await runStandard(runtime, {
      workloads: WORKLOADS,
      concurrency: [2],
      warmupMs: 200,
      durationMs: 1_000,
      quiet: true,
    });
    expect(cells.map((c) => c.workload)).toEqual([...WORKLOADS]);
    for (const cell of cells) {
      expect(cell.load.errorsByStatus, cell.workload).toEqual({});
      expect(cell.load.requests, cell.workload).toBeGreaterThan(0);
      expect(cell.mergePoolExhausted, cell.workload).toBe(0);
      if (cell.workload !== "health") expect(cell.ratioToHealth, cell.workload).toBeGreaterThan(0);
    }
  });

  it("reads the D1 round trips of each request kind from the Worker's request log", () => {
    expect(runtime?.log.total).toBeGreaterThan(0);
    for (const cell of cells) {
      const expected = EXPECTED_OUTCOME[cell.workload];
      if (!expected) continue;
      const usage = cell.usage[expected];
      expect(usage?.requests, cell.workload).toBeGreaterThan(0);
      // Each workload does what its name says: nothing else shows up in the log.
      expect(Object.keys(cell.usage), cell.workload).toEqual([expected]);
      expect(usage?.d1RoundTrips.min, cell.workload).toBeGreaterThanOrEqual(1);
    }
    const mixed = cells.find((c) => c.workload === "mixed");
    expect(Object.keys(mixed?.usage ?? {}).sort()).toEqual(["created", "linked", "merged", "unchanged"]);
  });

  it("blocked and limit-link grow no cluster, as protectionCheck reads back from D1", async () => {
    if (!runtime) throw new Error("the runtime did not start");
    const check = await protectionCheck(runtime);
    expect(check.met, check.actual).toBe(true);
  });

  it("--floors measures every operation of the bare Worker with no errors", async () => {
    const floors = await measureFloors(scratch, [2], { warmupMs: 100, durationMs: 500 });
    expect(floors.map((f) => f.operation)).toEqual([...FLOOR_OPERATIONS]);
    for (const floor of floors) {
      expect(floor.result.errorsByStatus, floor.operation).toEqual({});
      expect(floor.result.requests, floor.operation).toBeGreaterThan(0);
    }
  });

  it("--latency serves the bench-only entry, with each hop's delay on the path it models", async () => {
    // Distinct round trips, so each lower bound below names the hops a request crossed.
    const delays = parseDelays(
      "caller-worker=20,worker-primary.near=0,worker-primary.far=200,worker-replica=10," +
        "worker-object.near=0,worker-object.far=200,object-d1=30",
    );
    const modelled = await startRuntime({
      entry: LATENCY_ENTRY,
      vars: { BENCH_OBJECT_D1_MS: String(delays["object-d1"]) },
      stateDir: path.join(scratch, "latency-state"),
      buildDir: path.join(scratch, "latency-build"),
    });
    let cells: LatencyCell[];
    try {
      cells = await runLatency(modelled, delays, { warmupMs: 0, durationMs: 600 });
    } finally {
      await modelled.stop();
    }
    const p50 = (kind: string, caller: string, deployment: string) =>
      cells.find((c) => c.cell.workload === kind && c.caller === caller && c.deployment === deployment)?.cell.load
        .latencyMs.p50 ?? Number.NaN;
    expect(cells).toHaveLength(LATENCY_KINDS.length * 4);
    for (const { cell } of cells) expect(cell.load.errorsByStatus, cell.workload).toEqual({});
    // A far repeat: caller to Worker, then the replica.
    expect(p50("repeat", "far", "global")).toBeGreaterThanOrEqual(20 + 10);
    // A far write: caller, replica, the far object, and its round trip to D1.
    for (const kind of ["new", "link", "merge"]) expect(p50(kind, "far", "global")).toBeGreaterThanOrEqual(260);
    // The single-region server: the caller's trip to the region, then local D1 only.
    expect(p50("repeat", "far", "single-region")).toBeGreaterThanOrEqual(220 + 30);
    expect(p50("new", "far", "single-region")).toBeGreaterThanOrEqual(220 + 30 + 30);
  });

  it("--webhooks runs mixed with and without push, and every event reaches the receiver once", async () => {
    const result = await runWebhookBench({
      timing: { warmupMs: 200, durationMs: 1_000 },
      rounds: 1,
      stateDir: path.join(scratch, "webhooks-state"),
      buildDir: path.join(scratch, "webhooks-build"),
      keepState: false,
      quiet: true,
    });
    for (const cell of [...result.off.cells, ...result.on.cells]) expect(cell.load.errorsByStatus).toEqual({});
    expect(result.events).toBeGreaterThan(0);
    expect(result.duplicates).toBe(0);
    expect(result.largestBatch).toBeLessThanOrEqual(100);
    expect(result.commitToReceiptMs.p50).toBeGreaterThanOrEqual(0);
    expect(webhookGoals(result).map((goal) => goal.goal)).toHaveLength(3);
  });

  it("--feed reads full pages at both ends of a preloaded event table", async () => {
    const stretches = await runFeedBench({
      events: 20_000,
      pages: 10,
      stateDir: path.join(scratch, "feed-state"),
      buildDir: path.join(scratch, "feed-build"),
      keepState: false,
      out: "",
      header: "",
    });
    expect(stretches.map((stretch) => [stretch.where, stretch.pages, stretch.events])).toEqual([
      ["start of the table", 10, 10_000],
      ["end of the table", 10, 10_000],
    ]);
    expect(feedGoals(stretches)).toHaveLength(1);
  });

  it("--repair measures graph, explain and /lookup on a cluster at the limits, and an unmerge", async () => {
    const result = await runRepairBench({
      samples: 5,
      unmerges: 1,
      stateDir: path.join(scratch, "repair-state"),
      buildDir: path.join(scratch, "repair-build"),
      keepState: false,
      out: "",
      header: "",
    });
    expect(result.contacts).toBe(98);
    for (const value of Object.values(result.p50Ms)) expect(value).toBeGreaterThan(0);
    expect(repairGoals(result)).toHaveLength(2);
  });

  it("--scale grows the table, measures at each size, and finds no full scan in the service's query plans", async () => {
    const grown = await startRuntime({
      stateDir: path.join(scratch, "scale-state"),
      buildDir: path.join(scratch, "scale-build"),
    });
    try {
      const scale = await runScale(grown, {
        sizes: [2_000, 4_000],
        concurrency: [2],
        warmupMs: 0,
        durationMs: 300,
        quiet: true,
      });
      expect(scale.cells.map((c) => `${c.workload}@${c.size}`)).toEqual(
        [2_000, 4_000].flatMap((size) => ["health", "repeat", "link"].map((w) => `${w}@${size}`)),
      );
      for (const cell of scale.cells) expect(cell.load.errorsByStatus, cell.workload).toEqual({});
      expect(scale.plans.length).toBeGreaterThan(0);
      expect(scale.fullScans).toEqual([]);
    } finally {
      await grown.stop();
    }
  });

  it("--import imports generated history into an empty database and sends a sample through /identify", async () => {
    const cells = await runImportBench({
      sizes: [400],
      identifySample: 150,
      concurrency: 16,
      dir: path.join(scratch, "import"),
    });
    expect(cells.map((c) => c.records)).toEqual([400]);
    const [cell] = cells;
    expect(cell?.import.recordsPerSecond).toBeGreaterThan(0);
    expect(cell?.import.peakRssBytes).toBeGreaterThan(0);
    expect(cell?.identify).toMatchObject({ records: 150, concurrency: 16 });
    expect(cell?.identify.recordsPerSecond).toBeGreaterThan(0);
    expect(cell?.extrapolated).toBe(true);
    // Below a million records only the ratio to /identify is a goal.
    expect(importGoals(cells).map((g) => g.goal)).toEqual(["import of 400 records >= 20 x /identify at c=16"]);
  });

  it("--baseline serves another revision's Worker from a git worktree and alternates every cell with it", async () => {
    const checkout = await checkoutRevision("HEAD");
    // Two fresh runtimes: a contender's new identifiers start again from the first.
    const start = (name: string, root?: string) =>
      startRuntime({
        root,
        stateDir: path.join(scratch, `${name}-state`),
        buildDir: path.join(scratch, `${name}-build`),
      });
    const runtimes: Runtime[] = [];
    try {
      runtimes.push(await start("baseline", checkout.root), await start("current"));
      const [then, now] = await runAlternating(runtimes, {
        workloads: ["new"],
        concurrency: [2],
        warmupMs: 0,
        durationMs: 300,
        rounds: 2,
        quiet: true,
      });
      for (const cells of [then, now]) {
        expect(cells?.map((c) => c.workload)).toEqual(["new"]);
        expect(cells?.[0]?.load.errorsByStatus).toEqual({});
        expect(Object.keys(cells?.[0]?.usage ?? {})).toEqual(["created"]);
      }
    } finally {
      for (const started of runtimes) await started.stop();
      await checkout.remove();
    }
  });
});

/**
 * The goals of the issues, checked against a run's figures: pure functions of the cells
 * (and floors), plus the one check that reads back from D1. Rendering is bench/report.ts.
 */
import type { Floor } from "./floors";
import type { ImportCell } from "./import";
import type { UsageByOutcome } from "./request-log";
import { type Cell, UNIFORM_ROWS } from "./runs";
import type { Runtime } from "./runtime";
import { BLOCKED_DOMAIN, BLOCKED_PHONE } from "./workloads";

const fixed = (value: number, digits: number) => value.toFixed(digits);

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
export function serverErrors(cell: Cell): number {
  return Object.entries(cell.load.errorsByStatus).reduce(
    (n, [status, count]) => n + (/^5/.test(status) ? count : 0),
    0,
  );
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

/**
 * What `blocked` and `limit-link` must leave behind, read from the database after the
 * run: the placeholder phone stored nowhere, every fresh email of `blocked` a one-contact
 * cluster of its own, and the clusters at the limit no bigger than preloaded.
 */
export async function protectionCheck(runtime: Runtime): Promise<Goal> {
  const row = await runtime.db
    .prepare(
      `SELECT (SELECT count(*) FROM contacts WHERE phoneNumber = ?1) AS placeholders,
              (SELECT count(*) FROM contacts WHERE email LIKE ?2) AS fresh,
              (SELECT count(*) FROM contacts c WHERE c.email LIKE ?2
                  AND (c.linkPrecedence <> 'primary' OR EXISTS (SELECT 1 FROM contacts s WHERE s.linkedId = c.id))) AS grown,
              (SELECT count(*) FROM contacts WHERE phoneNumber LIKE '+72%') AS full`,
    )
    .bind(BLOCKED_PHONE, `%@${BLOCKED_DOMAIN}`)
    .first<{ placeholders: number; fresh: number; grown: number; full: number }>();
  const { placeholders = -1, fresh = 0, grown = -1, full = -1 } = row ?? {};
  return {
    goal: "no cluster grows: blocked phone stored nowhere, blocked emails alone, clusters at the limit unchanged",
    actual: `${placeholders} rows hold ${BLOCKED_PHONE}; ${grown} of ${fresh} blocked-run contacts linked; ${full.toLocaleString("en-US")} rows in clusters at the limit (preloaded ${UNIFORM_ROWS.toLocaleString("en-US")})`,
    met: placeholders === 0 && grown === 0 && full === UNIFORM_ROWS,
  };
}

/** Records the import must load within IMPORT_SECONDS, and within IMPORT_MEMORY_BYTES. */
const IMPORT_RECORDS = 1_000_000;
const IMPORT_SECONDS = 300;
const IMPORT_MEMORY_BYTES = 1024 ** 3;
/** How many times the /identify path's rate the import must reach. */
const IMPORT_SPEEDUP = 20;

/** Each program's own peak, largest first: `node 820 MiB, workerd 380 MiB`. */
const programs = (cell: ImportCell) =>
  Object.entries(cell.import.peakRssByProgram)
    .sort(([, a], [, b]) => b - a)
    .map(([name, bytes]) => `${name} ${fixed(bytes / 1024 ** 2, 0)} MiB`)
    .join(", ");

/**
 * The import's goals (issue #19): a million records in at most 5 minutes and within 1 GiB,
 * and at every size at least 20 times the rate of the same records through /identify.
 */
export function importGoals(cells: readonly ImportCell[]): Goal[] {
  const goals: Goal[] = [];
  for (const cell of cells) {
    const size = cell.records.toLocaleString("en-US");
    const ratio = cell.import.recordsPerSecond / cell.identify.recordsPerSecond;
    goals.push({
      goal: `import of ${size} records >= ${IMPORT_SPEEDUP} x /identify at c=${cell.identify.concurrency}`,
      actual: `${fixed(cell.import.recordsPerSecond, 0)} / ${fixed(cell.identify.recordsPerSecond, 0)} records/s = ${fixed(ratio, 1)}x${cell.extrapolated ? ` (/identify: a sample of ${cell.identify.records.toLocaleString("en-US")})` : ""}`,
      met: ratio >= IMPORT_SPEEDUP,
    });
    if (cell.records < IMPORT_RECORDS) continue;
    goals.push(
      {
        goal: `import of ${size} records in <= ${IMPORT_SECONDS} s`,
        actual: `${fixed(cell.import.seconds, 1)} s`,
        met: cell.import.seconds <= IMPORT_SECONDS,
      },
      {
        goal: `import of ${size} records within 1 GiB (peak RSS, Node and workerd)`,
        actual: `${fixed(cell.import.peakRssBytes / 1024 ** 2, 0)} MiB (alone: ${programs(cell)})`,
        met: cell.import.peakRssBytes <= IMPORT_MEMORY_BYTES,
      },
    );
  }
  return goals;
}

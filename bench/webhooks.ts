/**
 * `npm run bench -- --webhooks`: the push of the change feed under load. `mixed` runs at
 * c=16 on two Workers alternately, one without `WEBHOOK_URL` and one delivering to a
 * local receiver, and the run reports what delivery costs `mixed` and how fast events
 * arrive: commit (the event's `at`) to first receipt, p50 and p99, and events/s delivered.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { decodeCursor } from "../src/contract/cursor";
import type { Goal } from "./goals";
import { goalsTable, renderMarkdown, renderText, type Table, writeJson } from "./report";
import { type Cell, type Contender, contender, measure } from "./runs";
import { ROOT, type Runtime, startRuntime } from "./runtime";

const CONCURRENCY = 16;
/** How long delivery may take to catch up once the load stops before the run gives up. */
const DRAIN_TIMEOUT_MS = 60_000;

/**
 * A receiver that acknowledges at once and notes, for each event id, its commit time and
 * its first receipt. It does not verify signatures: what is measured is the service, and
 * the receiver shares the load generator's core (the fault tests verify every delivery).
 */
class BenchReceiver {
  readonly firstReceipt = new Map<number, { at: number; receivedAt: number }>();
  deliveries = 0;
  duplicates = 0;
  largestBatch = 0;
  private server: Server | undefined;

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const receivedAt = Date.now();
        const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          events: { id: string; at: string }[];
        };
        this.deliveries += 1;
        this.largestBatch = Math.max(this.largestBatch, events.length);
        for (const event of events) {
          const id = decodeCursor(event.id) ?? -1;
          if (this.firstReceipt.has(id)) this.duplicates += 1;
          else this.firstReceipt.set(id, { at: Date.parse(event.at), receivedAt });
        }
        res.writeHead(204).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");
    return address.port;
  }

  /** The highest event id received so far. */
  newest(): number {
    let newest = 0;
    for (const id of this.firstReceipt.keys()) newest = Math.max(newest, id);
    return newest;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

async function newestEvent(runtime: Runtime): Promise<number> {
  const row = await runtime.db.prepare("SELECT coalesce(max(id), 0) AS id FROM contact_events").first<{ id: number }>();
  return row?.id ?? 0;
}

export type WebhookBenchOptions = {
  timing: { warmupMs: number; durationMs: number };
  rounds: number;
  stateDir: string;
  keepState: boolean;
  out: string;
  header: string;
};

export type WebhookBenchResult = {
  off: { requestsPerSecond: number; cpuMsPerRequest: number | null; cells: Cell[] };
  on: { requestsPerSecond: number; cpuMsPerRequest: number | null; cells: Cell[] };
  throughputLost: number;
  events: number;
  commitToReceiptMs: { p50: number; p99: number; max: number };
  eventsPerSecondDelivered: number;
  drainMs: number;
  deliveries: number;
  duplicates: number;
  largestBatch: number;
};

const rate = (cells: readonly Cell[]) => {
  const requests = cells.reduce((n, c) => n + c.load.requests, 0);
  const seconds = cells.reduce((n, c) => n + c.load.seconds, 0);
  return seconds > 0 ? requests / seconds : 0;
};

/**
 * CPU time this process tree (load generator, receiver, workerd) spent per request: less
 * swayed than req/s by other processes taking cores, since it counts only what was spent.
 */
const cpuPerRequest = (cells: readonly Cell[]) => {
  let cpuMs = 0;
  let requests = 0;
  for (const cell of cells) {
    if (cell.cpu.ownCores === null) return null;
    cpuMs += cell.cpu.ownCores * cell.load.seconds * 1000;
    requests += cell.load.requests;
  }
  return requests > 0 ? cpuMs / requests : null;
};

/** Runs the comparison on two runtimes it starts, and stops them. */
export async function runWebhookBench(
  options: Omit<WebhookBenchOptions, "out" | "header"> & { buildDir?: string; quiet?: boolean },
  onCell?: (cell: Cell, pushing: boolean) => void,
): Promise<WebhookBenchResult> {
  const receiver = new BenchReceiver();
  const port = await receiver.start();
  const buildDir = options.buildDir ?? path.join(ROOT, ".wrangler", "bench");
  const runtimes: Runtime[] = [];
  try {
    const off = await startRuntime({
      stateDir: `${options.stateDir}-push-off`,
      keepState: options.keepState,
      buildDir: path.join(buildDir, "build-push-off"),
    });
    runtimes.push(off);
    const on = await startRuntime({
      stateDir: `${options.stateDir}-push-on`,
      keepState: options.keepState,
      buildDir: path.join(buildDir, "build-push-on"),
      vars: { WEBHOOK_URL: `http://127.0.0.1:${port}/`, WEBHOOK_SECRET: `whsec_${randomBytes(32).toString("base64")}` },
    });
    runtimes.push(on);
    const targets: [Contender, Contender] = [await contender(off, options.quiet), await contender(on, options.quiet)];
    const standard = { ...options.timing, workloads: ["mixed"] as const, concurrency: [CONCURRENCY], quiet: true };
    // Receipts that arrived while the pushing Worker was under load, and for how long it was.
    let loadMs = 0;
    let receivedUnderLoad = 0;
    let lastLoadEnd = 0;
    for (let round = 0; round < options.rounds; round++) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const pushing = target === targets[1];
        const before = receiver.firstReceipt.size;
        const started = Date.now();
        const cell = await measure(target, "mixed", CONCURRENCY, standard);
        if (pushing) {
          lastLoadEnd = Date.now();
          loadMs += lastLoadEnd - started;
          receivedUnderLoad += receiver.firstReceipt.size - before;
        }
        onCell?.(cell, pushing);
      }
    }
    const newest = await newestEvent(on);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (receiver.newest() < newest) {
      if (Date.now() > deadline) throw new Error(`delivery did not catch up within ${DRAIN_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // From the end of the last pushing cell to the last event's arrival (a cell without push may follow it).
    let lastReceipt = 0;
    for (const receipt of receiver.firstReceipt.values()) lastReceipt = Math.max(lastReceipt, receipt.receivedAt);
    const drainMs = Math.max(0, lastReceipt - lastLoadEnd);
    if (receiver.firstReceipt.size !== newest) {
      throw new Error(`received ${receiver.firstReceipt.size} distinct events of ${newest}`);
    }
    const latencies = [...receiver.firstReceipt.values()].map((r) => r.receivedAt - r.at).sort((a, b) => a - b);
    const offRate = rate(targets[0].cells);
    const onRate = rate(targets[1].cells);
    return {
      off: { requestsPerSecond: offRate, cpuMsPerRequest: cpuPerRequest(targets[0].cells), cells: targets[0].cells },
      on: { requestsPerSecond: onRate, cpuMsPerRequest: cpuPerRequest(targets[1].cells), cells: targets[1].cells },
      throughputLost: offRate > 0 ? 1 - onRate / offRate : 0,
      events: newest,
      commitToReceiptMs: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? 0,
      },
      eventsPerSecondDelivered: loadMs > 0 ? receivedUnderLoad / (loadMs / 1000) : 0,
      drainMs,
      deliveries: receiver.deliveries,
      duplicates: receiver.duplicates,
      largestBatch: receiver.largestBatch,
    };
  } finally {
    for (const runtime of runtimes) await runtime.stop();
    await receiver.stop();
  }
}

/** The goals of the issue for delivery under load. */
export function webhookGoals(result: WebhookBenchResult): Goal[] {
  const { p99 } = result.commitToReceiptMs;
  return [
    { goal: "commit to receipt p99 under 5 s (receiver up)", actual: `${(p99 / 1000).toFixed(2)} s`, met: p99 < 5000 },
    {
      goal: "`mixed` c=16 loses at most 10% to delivery",
      actual: `${(result.throughputLost * 100).toFixed(1)}%`,
      met: result.throughputLost <= 0.1,
    },
    {
      goal: "every event delivered, once acknowledged",
      actual: `${result.events} events, ${result.duplicates} duplicates`,
      met: result.duplicates === 0,
    },
  ];
}

/** `--webhooks`: runs, prints, writes `<out>` and its `.md`. */
export async function webhooksMain(options: WebhookBenchOptions): Promise<void> {
  const result = await runWebhookBench(options, (cell, pushing) =>
    console.log(
      `mixed c=${cell.concurrency} ${pushing ? "pushing" : "no push "}: ${cell.load.requestsPerSecond.toFixed(0)} req/s, p50 ${cell.load.latencyMs.p50.toFixed(1)} ms, ${cell.load.errors} errors`,
    ),
  );
  const ms = (value: number) => value.toFixed(0);
  const table: Table = {
    header: [
      "mixed c=16 req/s, no push / pushing",
      "lost",
      "CPU ms/req, no push / pushing",
      "events",
      "commit to receipt p50 / p99 ms",
      "events/s delivered",
      "drain ms",
    ],
    rows: [
      [
        `${result.off.requestsPerSecond.toFixed(0)} / ${result.on.requestsPerSecond.toFixed(0)}`,
        `${(result.throughputLost * 100).toFixed(1)}%`,
        `${result.off.cpuMsPerRequest?.toFixed(2) ?? "n/a"} / ${result.on.cpuMsPerRequest?.toFixed(2) ?? "n/a"}`,
        String(result.events),
        `${ms(result.commitToReceiptMs.p50)} / ${ms(result.commitToReceiptMs.p99)}`,
        result.eventsPerSecondDelivered.toFixed(0),
        ms(result.drainMs),
      ],
    ],
    left: 0,
  };
  const goals = goalsTable(webhookGoals(result));
  console.log(`\n${renderText(table)}\n\n${renderText(goals)}`);
  const file = await writeJson(options.out, { header: options.header, rounds: options.rounds, ...result });
  await writeFile(
    `${file.replace(/\.json$/, "")}.md`,
    `${[options.header, renderMarkdown(table), renderMarkdown(goals)].join("\n\n")}\n`,
  );
  console.log(`\nwrote ${file} and its .md`);
}

/**
 * `npm run bench -- --feed`: the change feed's read throughput. A table of `events` events
 * (1M by default, written with bulk SQL, never through HTTP) is read through `GET /events`
 * with `limit=1000`, `pages` pages from its start and `pages` pages ending at its end,
 * one consumer following `next`, in alternating rounds (so that a busy neighbour on the
 * machine weighs on both ends alike): events/s and the time of a page at each end, which
 * must be the same (a page is a seek on the events' primary key, whatever its position).
 */
import { writeFile } from "node:fs/promises";
import { decodeCursor, encodeCursor } from "../src/contract/cursor";
import type { Goal } from "./goals";
import { goalsTable, renderMarkdown, renderText, type Table, writeJson } from "./report";
import type { Runtime } from "./runtime";
import { startRuntime } from "./runtime";

const FEED_TOKEN = "bench-feed-token-not-a-secret";
const PAGE = 1000;
/** Rows per preload statement: one recursive INSERT ... SELECT each. */
const CHUNK = 100_000;

export type FeedBenchOptions = {
  events: number;
  pages: number;
  stateDir: string;
  /** Where the built Worker goes (default: startRuntime's). */
  buildDir?: string;
  keepState: boolean;
  out: string;
  header: string;
};

type Stretch = { where: string; pages: number; events: number; seconds: number; pageMs: { p50: number; p99: number } };

/** Writes `count` `created` events, ids 1..count, in chunks. */
async function preload(runtime: Runtime, count: number): Promise<void> {
  for (let done = 0; done < count; done += CHUNK) {
    const rows = Math.min(CHUNK, count - done);
    await runtime.db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
         INSERT INTO contact_events (at, kind, primaryContactId, contactIds, requestId)
         SELECT '2024-01-01T00:00:00.000Z', 'created', ${done} + i, json_array(${done} + i),
                'bench-' || (${done} + i) FROM n`,
      )
      .run();
  }
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Pages read, their events, their times (ms each), and the time they took together. */
type Reading = { events: number; times: number[]; ms: number };

/** Reads `pages` pages of `limit=1000` after event `afterId`, following `next`, into `reading`. */
async function readPages(runtime: Runtime, afterId: number, pages: number, reading: Reading): Promise<void> {
  let after = encodeCursor(afterId);
  const started = performance.now();
  for (let page = 0; page < pages; page++) {
    const sent = performance.now();
    const res = await fetch(new URL(`/events?after=${after}&limit=${PAGE}`, runtime.url), {
      headers: { authorization: `Bearer ${FEED_TOKEN}` },
    });
    if (res.status !== 200) throw new Error(`GET /events answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { events: unknown[]; next: string };
    reading.times.push(performance.now() - sent);
    reading.events += body.events.length;
    if (body.events.length < PAGE) throw new Error(`a page of ${body.events.length} events at ${decodeCursor(after)}`);
    after = body.next;
  }
  reading.ms += performance.now() - started;
}

function stretch(where: string, { events, times, ms }: Reading): Stretch {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    where,
    pages: times.length,
    events,
    seconds: ms / 1000,
    pageMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) },
  };
}

/** Rounds of the start and the end in turn, the order swapped each round. */
const ROUNDS = 5;

/** Preloads, warms up, and reads both ends of the table. */
export async function runFeedBench(options: FeedBenchOptions): Promise<Stretch[]> {
  const runtime = await startRuntime({
    stateDir: options.stateDir,
    buildDir: options.buildDir,
    keepState: options.keepState,
    vars: { FEED_TOKENS: FEED_TOKEN },
  });
  try {
    const loaded = performance.now();
    await preload(runtime, options.events);
    console.log(`preloaded ${options.events} events in ${((performance.now() - loaded) / 1000).toFixed(1)} s`);
    const perRound = Math.max(1, Math.floor(options.pages / ROUNDS));
    const start: Reading = { events: 0, times: [], ms: 0 };
    const end: Reading = { events: 0, times: [], ms: 0 };
    // Warm-up, in the middle: pages neither end reads.
    await readPages(runtime, Math.floor(options.events / 2), Math.min(5, perRound), { events: 0, times: [], ms: 0 });
    for (let round = 0; round < ROUNDS; round++) {
      // Each round reads pages not read before: no page is served warm from a previous read.
      const first = async () => readPages(runtime, round * perRound * PAGE, perRound, start);
      const last = async () => readPages(runtime, options.events - (round + 1) * perRound * PAGE, perRound, end);
      if (round % 2 === 0) await first().then(last);
      else await last().then(first);
    }
    return [stretch("start of the table", start), stretch("end of the table", end)];
  } finally {
    await runtime.stop();
  }
}

/** The goal: a page costs the same at both ends (here: p50 within 25%). */
export function feedGoals(stretches: readonly Stretch[]): Goal[] {
  const [start, end] = stretches;
  if (!start || !end) return [];
  const ratio = end.pageMs.p50 / start.pageMs.p50;
  return [
    {
      goal: "a page costs the same at the start and at the end of the table (p50 within 25%)",
      actual: `end / start = ${ratio.toFixed(2)}`,
      met: ratio <= 1.25 && ratio >= 0.8,
    },
  ];
}

/** `--feed`: runs, prints, writes `<out>` and its `.md`. */
export async function feedMain(options: FeedBenchOptions): Promise<void> {
  const stretches = await runFeedBench(options);
  const table: Table = {
    header: ["pages of limit=1000", "events", "events/s", "page p50 ms", "page p99 ms"],
    rows: stretches.map((s) => [
      `${s.pages} from the ${s.where}`,
      String(s.events),
      (s.events / s.seconds).toFixed(0),
      s.pageMs.p50.toFixed(1),
      s.pageMs.p99.toFixed(1),
    ]),
    left: 1,
  };
  const goals = goalsTable(feedGoals(stretches));
  console.log(`\n${renderText(table)}\n\n${renderText(goals)}`);
  const file = await writeJson(options.out, { header: options.header, tableEvents: options.events, stretches });
  const header = `${options.header} A table of ${options.events} events; one consumer following \`next\`.`;
  await writeFile(
    `${file.replace(/\.json$/, "")}.md`,
    `${[header, renderMarkdown(table), renderMarkdown(goals)].join("\n\n")}\n`,
  );
  console.log(`\nwrote ${file} and its .md`);
}

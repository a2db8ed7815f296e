/**
 * `npm run bench -- --repair`: merge repair on clusters at the cluster limits (50 emails and
 * 50 phones, two halves joined by one bridge): `GET /contacts/{id}/graph` and
 * `/explain` beside `POST /lookup` on the same cluster, one request at a time, and
 * `POST /contacts/{id}/unmerge` of that bridge, each on a cluster of its own.
 */
import { writeFile } from "node:fs/promises";
import type { Goal } from "./goals";
import { goalsTable, renderMarkdown, renderText, type Table, writeJson } from "./report";
import { BENCH_TOKEN, type Runtime, startRuntime } from "./runtime";

const ADMIN_TOKEN = "bench-admin-token-not-a-secret";

export type RepairBenchOptions = {
  stateDir: string;
  buildDir?: string;
  keepState: boolean;
  out: string;
  header: string;
  /** Requests per route for graph, explain and /lookup (5 rounds alternating). */
  samples: number;
  /** Unmerges, each on a cluster of its own. */
  unmerges: number;
};

/** p50 latencies per route, and the cluster's size. */
export type RepairBenchResult = {
  contacts: number;
  p50Ms: { lookup: number; graph: number; explain: number; unmerge: number };
};

type Sent = { status: number; ms: number };

async function send(runtime: Runtime, path: string, init: RequestInit, token = BENCH_TOKEN): Promise<Sent> {
  const started = performance.now();
  const res = await fetch(new URL(path, runtime.url), {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

const identify = (runtime: Runtime, body: object) =>
  send(runtime, "/identify", { method: "POST", body: JSON.stringify(body) });

/**
 * One cluster at the limits: two halves of 25 emails and 25 phones each (a star of shared
 * values), then a request with the first half's email and the second half's phone bridges them.
 * Returns the two halves' first contacts and their last, and the bridge.
 */
async function bridgedCluster(runtime: Runtime, tag: string, n: number) {
  const ids: number[] = [];
  const phoneOf = (half: string) => `+44${half === "a" ? 1 : 2}${String(n).padStart(9, "0")}00`;
  for (const half of ["a", "b"]) {
    const [email, phone] = [`${tag}${half}0@bench.example`, phoneOf(half)];
    for (let i = 0; i < 25; i++) {
      await identify(runtime, { email: `${tag}${half}${i}@bench.example`, phoneNumber: phone });
      if (i > 0) await identify(runtime, { email, phoneNumber: `${phone.slice(0, -2)}${String(i).padStart(2, "0")}9` });
    }
    const res = await fetch(new URL("/lookup", runtime.url), {
      method: "POST",
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    const cluster = (await res.json()) as { primaryContactId: number; secondaryContactIds: number[] };
    ids.push(cluster.primaryContactId, cluster.secondaryContactIds.at(-1) ?? cluster.primaryContactId);
  }
  const [a, aLast, b, bLast] = ids as [number, number, number, number];
  await identify(runtime, { email: `${tag}a0@bench.example`, phoneNumber: phoneOf("b") });
  const graph = await fetch(new URL(`/contacts/${a}/graph`, runtime.url), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const { links } = (await graph.json()) as { links: { via: string; bridgeId?: number }[] };
  const bridgeId = links.find((link) => link.via === "bridge")?.bridgeId ?? 0;
  return { a, aLast, b, bLast, bridgeId, email: `${tag}a0@bench.example`, contacts: links.length + 1 };
}

function p50(samples: readonly number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function sample(times: number, request: () => Promise<Sent>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const { status, ms: took } = await request();
    if (status !== 200) throw new Error(`answered ${status}`);
    ms.push(took);
  }
  return p50(ms);
}

/** Runs the repair bench on a Worker of its own (see the module's comment). */
export async function runRepairBench(options: RepairBenchOptions): Promise<RepairBenchResult> {
  const runtime = await startRuntime({
    stateDir: options.stateDir,
    buildDir: options.buildDir,
    keepState: options.keepState,
    vars: { ADMIN_TOKENS: ADMIN_TOKEN },
  });
  try {
    const tag = `r${Date.now() % 1e6}`;
    const seed = Date.now() % 1e6;
    const cluster = await bridgedCluster(runtime, `${tag}x`, seed * 100);
    const admin = (path: string) => () => send(runtime, path, { method: "GET" }, ADMIN_TOKEN);
    const lookup = () => send(runtime, "/lookup", { method: "POST", body: JSON.stringify({ email: cluster.email }) });
    const round = Math.max(1, Math.round(options.samples / 5));
    // Warm-up, then alternate so that the machine's drift hits each alike.
    await sample(round, lookup);
    const figures = { lookup: [] as number[], graph: [] as number[], explain: [] as number[] };
    for (let i = 0; i < 5; i++) {
      figures.lookup.push(await sample(round, lookup));
      figures.graph.push(await sample(round, admin(`/contacts/${cluster.aLast}/graph`)));
      figures.explain.push(await sample(round, admin(`/contacts/${cluster.aLast}/explain?to=${cluster.bLast}`)));
    }
    const unmerges: number[] = [];
    for (let i = 0; i < options.unmerges; i++) {
      const own = await bridgedCluster(runtime, `${tag}u${i}`, seed * 100 + i + 1);
      const { status, ms } = await send(
        runtime,
        `/contacts/${own.a}/unmerge`,
        { method: "POST", body: JSON.stringify({ bridgeId: own.bridgeId }) },
        ADMIN_TOKEN,
      );
      if (status !== 200) throw new Error(`unmerge answered ${status}`);
      unmerges.push(ms);
    }
    return {
      contacts: cluster.contacts,
      p50Ms: {
        lookup: p50(figures.lookup),
        graph: p50(figures.graph),
        explain: p50(figures.explain),
        unmerge: p50(unmerges),
      },
    };
  } finally {
    await runtime.stop();
  }
}

/** The goals: graph and explain within 2x of /lookup on the same cluster. */
export function repairGoals(result: RepairBenchResult): Goal[] {
  return (["graph", "explain"] as const).map((route) => ({
    goal: `${route} p50 within 2x of /lookup on the same cluster`,
    actual: `${(result.p50Ms[route] / result.p50Ms.lookup).toFixed(2)}x`,
    met: result.p50Ms[route] <= 2 * result.p50Ms.lookup,
  }));
}

/** `--repair`: runs, prints, writes `<out>` and its `.md`. */
export async function repairMain(options: RepairBenchOptions): Promise<void> {
  console.log("building the Worker (wrangler deploy --dry-run) and starting workerd...");
  const result = await runRepairBench(options);
  const ms = (value: number) => value.toFixed(1);
  const table: Table = {
    header: ["cluster", "/lookup p50 ms", "graph p50 ms", "explain p50 ms", "unmerge p50 ms"],
    rows: [
      [
        `${result.contacts} contacts, 50 emails, 50 phones`,
        ms(result.p50Ms.lookup),
        ms(result.p50Ms.graph),
        ms(result.p50Ms.explain),
        ms(result.p50Ms.unmerge),
      ],
    ],
    left: 1,
  };
  const goalTable = goalsTable(repairGoals(result));
  console.log(`\n${renderText(table)}\n\n${renderText(goalTable)}`);
  const file = await writeJson(options.out, { header: options.header, samples: options.samples, ...result });
  await writeFile(
    `${file.replace(/\.json$/, "")}.md`,
    `${[options.header, renderMarkdown(table), renderMarkdown(goalTable)].join("\n\n")}\n`,
  );
  console.log(`\nwrote ${file} and its .md`);
}

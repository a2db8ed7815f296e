import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { RequestLog } from "./request-log";

/** The repository root: bench/ sits directly under it. */
export const ROOT = path.resolve(import.meta.dirname, "..");
const wranglerBin = (root: string) => path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** The bearer token the harness configures (API_TOKENS) and sends with every request. */
export const BENCH_TOKEN = "bench-token-not-a-secret";

/**
 * Rate limit set on every [[ratelimits]] binding for the bench: far above what two
 * cores can serve in a period, so the limiter is still called but never throttles.
 */
export const UNTHROTTLED_LIMIT = 1_000_000_000;

/** The subset of the D1 binding the harness uses from Node (via Miniflare's proxy). */
type D1Statement = {
  bind(...values: unknown[]): D1Statement;
  all<T = Record<string, unknown>>(): Promise<{ results: T[] }>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  run(): Promise<{ meta: { changes: number } }>;
};
export type D1Handle = {
  prepare(query: string): D1Statement;
  batch(statements: D1Statement[]): Promise<unknown[]>;
};

export type Runtime = {
  /** The workerd socket bound straight to the Worker: what the bench measures. */
  url: URL;
  /** The Worker's D1 database, for preloads and query plans (not used on the measured path). */
  db: D1Handle;
  /** The request log lines the Worker printed, as the runtime's stdout delivered them. */
  log: RequestLog;
  /** Directory of the persisted local D1 (and Durable Object) state. */
  stateDir: string;
  /** Stops workerd; safe to call twice. */
  stop(): Promise<void>;
};

export type RuntimeOptions = {
  /** The checkout whose Worker, wrangler.toml and migrations to serve (default: this one). */
  root?: string;
  /** Where local state lives; wiped at start so each run begins from the migrations. */
  stateDir?: string;
  /** Keep the state directory after stop (to inspect the database). */
  keepState?: boolean;
  /** Where the built Worker goes. */
  buildDir?: string;
  /** Another entry module to build instead of wrangler.toml's `main` (bench-only Workers). */
  entry?: string;
  /** Vars added to wrangler.toml's (what a bench-only entry reads). */
  vars?: Record<string, string>;
};

/**
 * Local state of a bench run, wiped at its start. In RAM (/dev/shm) where there is one:
 * local D1 and the local rate limiter commit every write to SQLite files, and on a disk
 * each commit waits for the virtual disk's flush, a cost of this machine that neither
 * the Worker nor production pays.
 */
export const DEFAULT_STATE_DIR = existsSync("/dev/shm")
  ? path.join("/dev/shm", "identity-bench", "state")
  : path.join(ROOT, ".wrangler", "bench", "state");

const live = new Set<() => Promise<void>>();
let signalsHooked = false;

/**
 * Makes SIGINT and SIGTERM stop every runtime still running, then exit: a Ctrl-C during
 * a run must not leave workerd behind. Only the runtimes this process started are
 * touched. For the command line only: a test runner has its own signal handling.
 */
export function stopRuntimesOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the runtime\n`);
      void Promise.allSettled([...live].map((stop) => stop())).then(() => process.exit(130));
    });
  }
}

/** Runs a command in `cwd` to completion, failing with its output if it exits non-zero. */
export function run(command: string, args: string[], cwd = ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else
        reject(new Error(`${path.basename(args[0] ?? command)} ${args.slice(1).join(" ")} exited ${code}:\n${output}`));
    });
  });
}

/**
 * Builds the Worker exactly as `wrangler deploy` would upload it (same bundler, same
 * config), without uploading; from `entry` instead of `main` when given. Returns the
 * path of the bundled entry module.
 */
async function buildWorker(outDir: string, root = ROOT, entry?: string): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  const args = [wranglerBin(root), "deploy", "--dry-run", "--outdir", outDir];
  await run(process.execPath, entry === undefined ? args : [...args, entry], root);
  return path.join(outDir, entry === undefined ? "index.js" : `${path.basename(entry, path.extname(entry))}.js`);
}

/** The SQL statements of every migration, in file-name order (drizzle-kit's NNNN_ prefix). */
export async function readMigrations(dir = path.join(ROOT, "migrations")): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  const statements: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    for (const part of text.split("--> statement-breakpoint")) {
      if (part.trim() !== "") statements.push(part.trim());
    }
  }
  return statements;
}

/** Written into every state directory the bench creates: only those does it ever wipe. */
const STATE_MARKER = ".identity-bench-state";

/**
 * Empties `dir` for a new run. A directory the bench did not create (no marker) is
 * refused unless empty, so a mistyped --state-dir cannot delete anything else.
 */
async function freshStateDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes(STATE_MARKER)) {
    throw new Error(
      `${dir} is not empty and was not made by the bench: refusing to wipe it (choose another --state-dir)`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, STATE_MARKER), "local state of npm run bench; wiped at each run\n");
}

type WorkerOptions = ReturnType<typeof unstable_getMiniflareWorkerOptions>["workerOptions"];
/** A [[ratelimits]] binding as Miniflare takes it (its exported option types lose it in an Omit). */
type RateLimit = { namespace_id: string; simple: { limit: number; period?: 10 | 60 } };

/**
 * Starts the real Worker and its Durable Objects in workerd through the Miniflare API,
 * configured from wrangler.toml, on a local D1 persisted under `stateDir`, with the
 * migrations applied. No inspector, no live reload, no dev proxy: requests go to a
 * workerd socket bound straight to the Worker.
 */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const root = options.root ?? ROOT;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const buildDir = options.buildDir ?? path.join(root, ".wrangler", "bench", "build");
  const entry = await buildWorker(buildDir, root, options.entry);
  await freshStateDir(stateDir);

  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  // Module rules are for Miniflare's own module discovery; the bundle is a single module.
  const { modulesRules: _rules, ...fromConfig } = workerOptions as WorkerOptions & {
    modulesRules?: unknown;
    ratelimits?: Record<string, RateLimit>;
    bindings?: Record<string, unknown>;
  };
  const ratelimits: Record<string, RateLimit> = {};
  for (const [name, limit] of Object.entries(fromConfig.ratelimits ?? {})) {
    ratelimits[name] = { ...limit, simple: { ...limit.simple, limit: UNTHROTTLED_LIMIT } };
  }

  const log = new RequestLog();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...fromConfig,
      name: "identity-reconciliation",
      modulesRoot: path.dirname(entry),
      modules: [{ type: "ESModule", path: entry }],
      bindings: { ...fromConfig.bindings, ...options.vars, API_TOKENS: BENCH_TOKEN },
      ratelimits,
      host: "127.0.0.1",
      port: 0,
      // The placeholder `request.cf`: the real one is fetched from the internet, unreachable here.
      cf: false,
      // A socket on the Worker itself, skipping Miniflare's routing entry Worker.
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      resourcePersistencePath: stateDir,
      // Each console.log of the Worker arrives here, parsed from workerd's stdout.
      handleStructuredLogs: (line) => log.accept(line.level, line.message),
      log: new Log(LogLevel.WARN),
    }),
  );

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      live.delete(stop);
      await mf.dispose();
      if (!options.keepState) await rm(stateDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  live.add(stop);

  let runtime: Runtime;
  try {
    const db = (await mf.getD1Database("DB")) as unknown as D1Handle;
    await db.batch((await readMigrations(path.join(root, "migrations"))).map((sql) => db.prepare(sql)));
    runtime = { url: await mf.unsafeGetDirectURL(), db, log, stateDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
  return runtime;
}

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
// wrangler's own entry point, run by the Node that runs the tests (22, from the `node`
// devDependency), whatever Node a bare `wrangler` on the PATH would pick up.
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/**
 * A `wrangler dev` of this Worker on 127.0.0.1, with its own local state (D1, objects).
 * `stop()` ends it and deletes the state unless the caller gave it; `kill()` ends it at
 * once (SIGKILL), as a crash would, and keeps the state; `output()` is its recent output.
 * `store` is the state's directory (a `--persist-to` one).
 */
export type DevServer = {
  url: string;
  store: string;
  stop: () => Promise<void>;
  kill: () => Promise<void>;
  output: () => string;
};

/** A port free on 127.0.0.1 right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

/**
 * Runs wrangler in a process group of its own (it starts esbuild and workerd under it),
 * so that stopping it can signal the whole group by id and leave nothing behind.
 */
function wrangler(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return { child, output: () => output };
}

const exited = (child: ChildProcess): Promise<unknown> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, "exit");

async function stopGroup(child: ChildProcess, first: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup(first);
  const timer = setTimeout(() => signalGroup("SIGKILL"), 10_000);
  await exited(child);
  clearTimeout(timer);
  // workerd may outlive wrangler by a moment; the group id still reaches it.
  signalGroup("SIGKILL");
}

async function waitUntilHealthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not answer /health within 90 s:\n${output()}`);
}

/** Runs one wrangler command to its end; a non-zero exit throws with its output. */
async function completed(args: string[]): Promise<void> {
  const run = wrangler(args);
  const [code] = (await once(run.child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(" ")} exited with ${code}:\n${run.output()}`);
}

/**
 * Applies the D1 migrations to the local D1 under `store` (a `--persist-to` directory),
 * as `wrangler d1 migrations apply DB --local` does.
 */
export function applyMigrations(store: string): Promise<void> {
  return completed(["d1", "migrations", "apply", "DB", "--local", "--persist-to", store]);
}

/**
 * Applies the D1 migrations to a fresh temporary store, runs `sql` on it if given (rows the
 * API would refuse to store), then starts `wrangler dev` on it with `vars` (e.g. `API_TOKENS`),
 * on a free port of 127.0.0.1. `stop()` ends the process group and deletes the store.
 * `options.persistTo` gives the store instead (kept after it stops: how a test restarts a
 * killed server on the same state), `options.port` the port.
 */
export async function startDevServer(
  vars: Record<string, string>,
  sql?: string,
  options: { persistTo?: string; port?: number } = {},
): Promise<DevServer> {
  const store = options.persistTo ?? (await mkdtemp(path.join(tmpdir(), "identity-dev-")));
  const removeStore = () => (options.persistTo === undefined ? rm(store, { recursive: true, force: true }) : undefined);
  try {
    await applyMigrations(store);
    if (sql !== undefined) await completed(["d1", "execute", "DB", "--local", "--persist-to", store, "--command", sql]);
  } catch (err) {
    await removeStore();
    throw err;
  }

  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const dev = wrangler([
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    store,
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopGroup(dev.child);
    await removeStore();
  };
  try {
    await waitUntilHealthy(url, dev.child, dev.output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, store, stop, kill: () => stopGroup(dev.child, "SIGKILL"), output: dev.output };
}

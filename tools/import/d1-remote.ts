/**
 * Production's D1 database through `wrangler d1 execute --remote` (wrangler's login or
 * CLOUDFLARE_API_TOKEN): a chunk goes as one SQL file, which D1 runs as one transaction.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { D1Executor } from "./load-d1";

const ROOT = path.resolve(import.meta.dirname, "../..");
// wrangler's own entry point, run by the Node running this tool (the `node` devDependency's).
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

type Answer = { results?: Record<string, unknown>[] }[];

/** Runs `wrangler d1 execute DB --remote --json` with `args`; its JSON answer, or wrangler's error. */
async function execute(args: string[]): Promise<Answer> {
  const child = spawn(process.execPath, [WRANGLER, "d1", "execute", "DB", "--remote", "--yes", "--json", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  const code = await new Promise<number | null>((done) => child.on("close", done));
  if (code !== 0) {
    let message = err.trim() || out.trim();
    try {
      message = (JSON.parse(out) as { error?: { text?: string } }).error?.text ?? message;
    } catch {
      // Not JSON: wrangler's own text is the message.
    }
    throw new Error(`wrangler d1 execute --remote failed (exit ${code}): ${message.slice(-2000)}`);
  }
  return JSON.parse(out) as Answer;
}

/** The remote database of wrangler.toml's DB binding. */
export async function remoteD1(): Promise<D1Executor> {
  const dir = await mkdtemp(path.join(tmpdir(), "import-"));
  return {
    async query(sql) {
      const [first] = await execute(["--command", sql]);
      return first?.results ?? [];
    },
    async transaction(statements) {
      const file = path.join(dir, "chunk.sql");
      await writeFile(file, `${statements.join(";\n")};\n`);
      await execute(["--file", file]);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

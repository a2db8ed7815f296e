/**
 * The local D1 database that `npm run dev` serves, opened as `wrangler d1 execute --local`
 * opens it (Miniflare on `<persist-to>/v3`, the database named by wrangler.toml's binding),
 * but once for the whole import: each chunk is one D1 batch, so one transaction.
 */
import path from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";
import type { D1Executor } from "./load-d1";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** The subset of the D1 binding used here, through Miniflare's proxy. */
type D1 = {
  prepare(sql: string): { all(): Promise<{ results: Record<string, unknown>[] }> };
  batch(statements: unknown[]): Promise<unknown>;
};

/**
 * Opens the local database of the DB binding under `persistTo` (relative to the working
 * directory, as wrangler takes it), or under `.wrangler/state` beside wrangler.toml.
 */
export async function localD1(persistTo: string | undefined): Promise<D1Executor> {
  const config = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") });
  const binding = config.d1_databases.find((d1: { binding: string }) => d1.binding === "DB");
  if (!binding) throw new Error("wrangler.toml has no D1 binding named DB");
  const id = binding.preview_database_id ?? binding.database_id ?? binding.binding;
  const state = persistTo ? path.resolve(process.cwd(), persistTo) : path.join(ROOT, ".wrangler", "state");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: "",
      resourcePersistencePath: path.join(state, "v3"),
      d1Databases: { DATABASE: id },
      // The placeholder `request.cf`: the real one is fetched from the internet.
      cf: false,
      log: new Log(LogLevel.WARN),
    }),
  );
  const db = (await mf.getD1Database("DATABASE")) as unknown as D1;
  return {
    async query(sql) {
      return (await db.prepare(sql).all()).results;
    },
    async transaction(statements) {
      await db.batch(statements.map((sql) => db.prepare(sql)));
    },
    close: () => mf.dispose(),
  };
}

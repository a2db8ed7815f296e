/**
 * The local D1 database that `npm run dev` serves, opened as `wrangler d1 execute --local`
 * opens it (Miniflare on `<persist-to>/v3`, the database named by wrangler.toml's binding),
 * but once for the whole import. The SQL runs inside workerd, in a small Worker of the
 * import's own: a chunk goes over in one request and runs as one D1 batch (one transaction),
 * rather than one round trip through Miniflare's binding proxy per prepared statement.
 */
import path from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import type { D1Executor } from "./load-d1";
import { readWranglerToml } from "./wrangler-toml";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** POST /query {sql} answers the rows; POST /batch {statements} runs them as one transaction. */
const LOADER = `
export default {
  async fetch(request, env) {
    try {
      const body = await request.json();
      if (new URL(request.url).pathname === "/query") {
        return Response.json((await env.DATABASE.prepare(body.sql).all()).results);
      }
      await env.DATABASE.batch(body.statements.map((sql) => env.DATABASE.prepare(sql)));
      return Response.json(null);
    } catch (err) {
      return Response.json({ error: String(err && err.message ? err.message : err) }, { status: 500 });
    }
  },
};`;

/**
 * Opens the local database of the DB binding under `persistTo` (relative to the working
 * directory, as wrangler takes it), or under `.wrangler/state` beside wrangler.toml.
 */
export async function localD1(persistTo: string | undefined): Promise<D1Executor> {
  const binding = readWranglerToml().database;
  if (!binding) throw new Error("wrangler.toml has no D1 binding named DB");
  const id = binding.preview_database_id ?? binding.database_id ?? binding.binding;
  const state = persistTo ? path.resolve(process.cwd(), persistTo) : path.join(ROOT, ".wrangler", "state");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: LOADER,
      resourcePersistencePath: path.join(state, "v3"),
      d1Databases: { DATABASE: id },
      // The placeholder `request.cf`: the real one is fetched from the internet.
      cf: false,
      log: new Log(LogLevel.WARN),
    }),
  );
  const call = async (route: string, body: unknown) => {
    const response = await mf.dispatchFetch(`http://import${route}`, { method: "POST", body: JSON.stringify(body) });
    const answer = (await response.json()) as unknown;
    if (!response.ok) throw new Error(`local D1: ${(answer as { error?: string }).error ?? response.status}`);
    return answer;
  };
  return {
    query: async (sql) => (await call("/query", { sql })) as Record<string, unknown>[],
    transaction: async (statements) => {
      await call("/batch", { statements });
    },
    close: () => mf.dispose(),
  };
}

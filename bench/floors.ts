import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { clusterEmail, clusterPhone } from "./dataset";
import { type LoadResult, runLoad } from "./load";
import { captureStatements } from "./plans";
import { readMigrations, UNTHROTTLED_LIMIT } from "./runtime";

/**
 * What one operation of the stack costs on this machine, measured on a Worker that
 * does nothing else: the floor under each of our request kinds. A `/identify` is at
 * least a rate-limiter call plus one D1 read (plus an object call and a D1 batch for a
 * write); these figures say how much of its time is the local runtime's.
 */
export type Floor = { operation: string; concurrency: number; result: LoadResult };

/** A Worker with one route per operation, using bindings of the same kinds as ours. */
function floorWorker(readSql: string, readParams: unknown[]): string {
  return `
import { DurableObject } from "cloudflare:workers";
const READ = ${JSON.stringify(readSql)};
const PARAMS = ${JSON.stringify(readParams)};
export class Floor extends DurableObject {
  async noop() { return 1; }
}
let n = 0;
export default {
  async fetch(request, env) {
    switch (new URL(request.url).pathname) {
      case "/noop": return new Response('{"status":"healthy"}');
      case "/log": console.log(JSON.stringify({ requestId: "floor", method: "GET", route: "/log", status: 200, durationMs: 0 })); return new Response("{}");
      case "/ratelimit": await env.LIMITER.limit({ key: "floor" }); return new Response("{}");
      case "/d1-read": return Response.json(await env.DB.prepare(READ).bind(...PARAMS).raw());
      case "/object-call": await env.FLOOR.getByName("floor" + (n++ % 64)).noop(); return new Response("{}");
      case "/d1-batch": {
        const email = "floor" + (n++) + "-" + Math.random() + "@floor.bench";
        await env.DB.batch([
          env.DB.prepare("SELECT 1"),
          env.DB.prepare("INSERT INTO contacts (email, linkPrecedence) VALUES (?, 'primary')").bind(email),
          env.DB.prepare(READ).bind(...PARAMS),
        ]);
        return new Response("{}");
      }
    }
    return new Response("{}", { status: 404 });
  },
};`;
}

export const FLOOR_OPERATIONS = ["/noop", "/log", "/ratelimit", "/d1-read", "/object-call", "/d1-batch"] as const;

/**
 * Measures each floor operation at each concurrency on a throwaway Miniflare instance
 * (same workerd, same kinds of bindings, state in `stateDir`'s file system).
 */
export async function measureFloors(
  stateParent: string,
  concurrency: readonly number[],
  timing: { warmupMs: number; durationMs: number },
  onFloor?: (floor: Floor) => void,
): Promise<Floor[]> {
  const stateDir = await mkdtemp(path.join(stateParent, "bench-floors-"));
  const [read] = await captureStatements({ email: clusterEmail(1), phoneNumber: clusterPhone(1) });
  if (!read) throw new Error("captured no read statement");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name: "floors",
      compatibilityDate: "2026-11-01",
      modulesRoot: stateDir,
      modules: [
        {
          type: "ESModule",
          path: path.join(stateDir, "floors.js"),
          contents: floorWorker(read.statement.sql, read.statement.params),
        },
      ],
      d1Databases: { DB: "floors" },
      durableObjects: { FLOOR: { className: "Floor", useSQLite: true } },
      ratelimits: { LIMITER: { namespace_id: "1", simple: { limit: UNTHROTTLED_LIMIT, period: 60 } } },
      cf: false,
      host: "127.0.0.1",
      port: 0,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      resourcePersistencePath: stateDir,
      handleStructuredLogs: () => undefined,
      log: new Log(LogLevel.WARN),
    }),
  );
  const floors: Floor[] = [];
  try {
    const url = await mf.unsafeGetDirectURL();
    const db = await mf.getD1Database("DB");
    await db.batch((await readMigrations()).map((sql) => db.prepare(sql)));
    await db
      .prepare("INSERT INTO contacts (email, phoneNumber, linkPrecedence) VALUES (?, ?, 'primary')")
      .bind(clusterEmail(1), clusterPhone(1))
      .run();
    for (const operation of FLOOR_OPERATIONS) {
      for (const c of concurrency) {
        const result = await runLoad({
          url,
          concurrency: c,
          ...timing,
          headers: {},
          next: () => ({ method: "GET", path: operation }),
        });
        const floor = { operation, concurrency: c, result };
        floors.push(floor);
        onFloor?.(floor);
      }
    }
  } finally {
    await mf.dispose();
    await rm(stateDir, { recursive: true, force: true });
  }
  return floors;
}

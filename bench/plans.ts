import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ContactRow, Identifiers } from "../src/domain/contact";
import { type ClusterLimits, DEFAULT_CLUSTER_LIMIT } from "../src/domain/limits";
import { planReconciliation, type ReconciliationPlan } from "../src/domain/reconcile";
import type { D1Handle } from "./runtime";
import { ROOT } from "./runtime";

/** A statement the service sends to D1, with the parameters of one example request. */
export type CapturedStatement = { sql: string; params: unknown[] };

/** EXPLAIN QUERY PLAN of one statement, one line per plan step, indented by depth. */
export type QueryPlan = { name: string; sql: string; plan: string[] };

/**
 * The parts of src/db the bench drives. Imported at run time by path, so the Node type
 * check does not pull in the Worker's globals (D1Database and friends).
 */
type Client = { database(d1: unknown): unknown };
type Reads = { readTouchedClusters(db: unknown, who: Identifiers, limits: ClusterLimits): Promise<unknown> };
type Commit = {
  commitPlans(
    db: unknown,
    commits: { who: Identifiers; stamp: string; plan: ReconciliationPlan; requestId: string; limits: ClusterLimits }[],
  ): Promise<unknown>;
};

/** Imports src/db/<name>.ts at run time (see Client). */
async function dbModule<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(path.join(ROOT, "src", "db", `${name}.ts`)).href)) as T;
}

/**
 * A stand-in D1 binding that answers every statement with no rows and records what
 * was sent: the service's own query builders produce the SQL, so the plans below
 * are those of the statements it really runs, not of a hand-copied version.
 */
function recordingD1(log: CapturedStatement[][]) {
  const statement = (sql: string, params: unknown[] = []) => {
    // Records one execution of this statement, then answers as D1 would with no rows.
    const recorded = <T>(answer: T) => {
      log.push([{ sql, params }]);
      return answer;
    };
    return {
      sql,
      params,
      bind: (...values: unknown[]) => statement(sql, values),
      all: async () => recorded({ results: [], success: true, meta: {} }),
      raw: async () => recorded([]),
      run: async () => recorded({ results: [], success: true, meta: {} }),
      first: async () => recorded(null),
    };
  };
  return {
    prepare: (sql: string) => statement(sql),
    batch: async (statements: { sql: string; params: unknown[] }[]) => {
      log.push(statements.map(({ sql, params }) => ({ sql, params })));
      return statements.map(() => ({ results: [], success: true, meta: {} }));
    },
  };
}

/**
 * Captures the statements of the read (every request) and of a write batch that does
 * everything a batch can (guard, promote, fold clusters, insert, read back), for `who`.
 */
export async function captureStatements(who: Identifiers): Promise<{ name: string; statement: CapturedStatement }[]> {
  const [client, reads, commit] = await Promise.all([
    dbModule<Client>("client"),
    dbModule<Reads>("reads"),
    dbModule<Commit>("commit"),
  ]);
  const round: CapturedStatement[][] = [];
  const db = client.database(recordingD1(round));
  // The limits as wrangler.toml ships them: they bound the statements' windows.
  const limits: ClusterLimits = { emails: DEFAULT_CLUSTER_LIMIT, phones: DEFAULT_CLUSTER_LIMIT };
  await reads.readTouchedClusters(db, who, limits);
  // Rows the domain turns into the largest plan: the oldest row is a secondary whose
  // primary is gone (promote), a second cluster to fold, and a phone nobody has (insert).
  const rows: ContactRow[] = [
    {
      id: 1,
      email: who.email ?? null,
      phoneNumber: null,
      linkedId: 99,
      linkPrecedence: "secondary",
      createdAt: "2024-01-01T00:00:00.000Z",
    },
    {
      id: 2,
      email: null,
      phoneNumber: "+100",
      linkedId: null,
      linkPrecedence: "primary",
      createdAt: "2024-01-02T00:00:00.000Z",
    },
  ];
  const plan = planReconciliation(rows, who, limits);
  await commit.commitPlans(db, [{ who, stamp: "stamp", plan, requestId: "bench-request", limits }]);
  const [read = [], batch = []] = round;
  const verb = (sql: string) => sql.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  return [
    ...read.map((statement) => ({ name: "read the touched clusters (every request)", statement })),
    ...batch.map((statement, i) => ({
      name: `write batch ${i + 1}/${batch.length}: ${i === 0 ? "guard" : i === batch.length - 1 ? "read back" : verb(statement.sql)}`,
      statement,
    })),
  ];
}

type PlanRow = { id: number; parent: number; detail: string };

/** Runs EXPLAIN QUERY PLAN for each captured statement against the bench's database. */
export async function explainStatements(db: D1Handle, who: Identifiers): Promise<QueryPlan[]> {
  const plans: QueryPlan[] = [];
  for (const { name, statement } of await captureStatements(who)) {
    const { results } = await db
      .prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
      .bind(...statement.params)
      .all<PlanRow>();
    const depth = new Map<number, number>([[0, 0]]);
    const plan = results.map((row) => {
      const level = (depth.get(row.parent) ?? 0) + 1;
      depth.set(row.id, level);
      return `${"  ".repeat(level - 1)}${row.detail}`;
    });
    plans.push({ name, sql: statement.sql, plan });
  }
  return plans;
}

/**
 * Plan steps that walk the whole of `contacts` or one of its indexes (SQLite says SCAN,
 * as opposed to SEARCH): their cost grows with the table, so none may be on a request path.
 */
export function fullScans(plans: readonly QueryPlan[]): string[] {
  return plans.flatMap((p) =>
    p.plan.filter((step) => /\bSCAN contacts\b/.test(step)).map((step) => `${p.name}: ${step.trim()}`),
  );
}

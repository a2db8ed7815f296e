/**
 * Writes an import plan into an empty D1 database, in chunks that each run as one transaction
 * and advance the import's ledger row; reads where an import stands. The database is reached
 * through a D1Executor: the local one of `npm run dev` (d1-local.ts) or production's (d1-remote.ts).
 */
import type { ImportPlan } from "./plan";
import { importRequestId } from "./request-ids";
import { type Chunk, importChunks, type Ledger } from "./statements";

/** Runs SQL on one D1 database. */
export type D1Executor = {
  /** Rows of one statement. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Runs `statements` as one transaction. */
  transaction(statements: string[]): Promise<void>;
  close(): Promise<void>;
};

/** What the database holds, as far as an import into it is concerned. */
export type DatabaseState = {
  /** Rows in the service's tables, and AUTOINCREMENT counters already used. */
  used: boolean;
  /** This import's ledger row, if it has one. */
  ledger: { chunksDone: number; chunksTotal: number; startedAt: string; finishedAt: string | null } | undefined;
  /** Whether the migrations (up to the imports ledger) are applied. */
  migrated: boolean;
};

const STATE_SQL = `
SELECT
  (EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM contact_bridges) OR EXISTS (SELECT 1 FROM contact_events)
    OR EXISTS (SELECT 1 FROM contact_separations)
    OR EXISTS (SELECT 1 FROM sqlite_sequence WHERE name IN ('contacts', 'contact_bridges', 'contact_events') AND seq > 0)
  ) AS used`;

/** Reads whether the target is empty, and where the import with ledger id `id` stands in it. */
export async function readState(db: D1Executor, id: string): Promise<DatabaseState> {
  const [tables] = await db.query(
    "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('contacts', 'imports')",
  );
  if (Number(tables?.n ?? 0) < 2) return { used: false, ledger: undefined, migrated: false };
  const [state] = await db.query(STATE_SQL);
  const [ledger] = await db.query(
    `SELECT chunksDone, chunksTotal, startedAt, finishedAt FROM imports WHERE id = '${id.replaceAll("'", "''")}'`,
  );
  return { migrated: true, used: Number(state?.used ?? 0) === 1, ledger: ledger as DatabaseState["ledger"] };
}

/**
 * Loads `plan` into `db` from chunk `from` on, each chunk one transaction, calling
 * `onChunk` after each is committed. Each record's writes carry a request id derived from
 * the ledger id and its line, so a resumed load writes the ids an uninterrupted one would.
 */
export async function loadChunks(
  db: D1Executor,
  plan: ImportPlan,
  ledger: Ledger,
  from: number,
  onChunk: (chunk: Chunk) => void,
): Promise<void> {
  const requestId = (line: number) => importRequestId(ledger.id, line);
  for (const chunk of importChunks(plan, ledger, requestId, { from, now: new Date().toISOString() })) {
    await db.transaction(chunk.statements);
    onChunk(chunk);
  }
}

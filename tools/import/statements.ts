/**
 * The SQL that writes an ImportPlan into an empty database, in chunks that each run as one
 * transaction (`wrangler d1 execute --file`, or a D1 batch) and each advance the import's
 * ledger row, so that an interrupted load resumes at the first chunk not written.
 * Pure, like plan.ts: the equivalence test executes these statements inside workerd.
 */
import type { ImportPlan, PlannedBridge, PlannedContact, PlannedEvent } from "./plan";

/** The request id written with the rows that the record on `line` made. */
export type RequestIds = (line: number) => string;

/** The ledger row of one import (the `imports` table, src/db/schema.ts). */
export type Ledger = { id: string; source: string; records: number; startedAt: string };

/** Rows per chunk: a chunk of about a megabyte, one transaction well under a second; a resume redoes at most one. */
export const ROWS_PER_CHUNK = 10_000;
/** Rows per INSERT: D1 caps a statement's text at 100 KB, and a row here is under 300 bytes. */
const ROWS_PER_INSERT = 200;

/** A SQL literal: NULL, an integer, or a quoted string. */
function literal(value: string | number | null): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
    return String(value);
  }
  return `'${value.replaceAll("'", "''")}'`;
}

type Table<Row> = {
  name: string;
  columns: readonly string[];
  values: (row: Row, requestId: RequestIds) => (string | number | null)[];
};

const CONTACTS: Table<PlannedContact> = {
  name: "contacts",
  columns: ["id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt"],
  values: (c) => [c.id, c.email, c.phoneNumber, c.linkedId, c.linkPrecedence, c.createdAt, c.updatedAt],
};
const BRIDGES: Table<PlannedBridge> = {
  name: "contact_bridges",
  columns: ["id", "emailContactId", "phoneContactId", "createdAt", "requestId"],
  values: (b, requestId) => [b.id, b.emailContactId, b.phoneContactId, b.createdAt, requestId(b.line)],
};
const EVENTS: Table<PlannedEvent> = {
  name: "contact_events",
  columns: ["id", "at", "kind", "primaryContactId", "contactIds", "bridgeId", "requestId"],
  values: (e, requestId) => [
    e.id,
    e.at,
    e.kind,
    e.primaryContactId,
    JSON.stringify(e.contactIds),
    e.bridgeId,
    requestId(e.line),
  ],
};
type IndexRow = { contactId: number; eventId: number };
const EVENT_INDEX: Table<IndexRow> = {
  name: "contact_event_contacts",
  columns: ["contactId", "eventId"],
  values: (r) => [r.contactId, r.eventId],
};

function* inserts<Row>(table: Table<Row>, rows: readonly Row[], requestId: RequestIds): Generator<string> {
  const head = `INSERT INTO ${table.name} (${table.columns.join(", ")}) VALUES\n`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const tuples = rows
      .slice(i, i + ROWS_PER_INSERT)
      .map((row) => `(${table.values(row, requestId).map(literal).join(", ")})`);
    yield `${head}${tuples.join(",\n")}`;
  }
}

/** What indexNewEvents (src/db) indexes an event under: its contacts and its primary, once each. */
function indexRows(events: readonly PlannedEvent[]): IndexRow[] {
  return events.flatMap((event) =>
    [...new Set([...event.contactIds, event.primaryContactId])].map((contactId) => ({ contactId, eventId: event.id })),
  );
}

/** One chunk: its statements, the last of them advancing the ledger. */
export type Chunk = { index: number; total: number; statements: string[] };

/** How many chunks `plan` loads in, of `rowsPerChunk` rows of a table at most. */
export function chunkCount(plan: ImportPlan, rowsPerChunk = ROWS_PER_CHUNK): number {
  const slices = (rows: number) => Math.ceil(rows / rowsPerChunk);
  return Math.max(1, slices(plan.contacts.length) + slices(plan.bridges.length) + slices(plan.events.length));
}

/** Where to start (1-based chunk), the time to mark the ledger finished with, and the chunk size. */
export type ChunkOptions = { from?: number; now?: string; rowsPerChunk?: number };

/** Rows `first` to `last` (ids) of a plan's table, read from its columns. */
function rowsOf<Row>(table: { row(id: number): Row }, first: number, last: number): Row[] {
  const rows: Row[] = [];
  for (let id = first; id <= last; id++) rows.push(table.row(id));
  return rows;
}

/**
 * The chunks that load `plan`, from chunk `from` on: contacts in id order (a secondary's
 * primary is older, so already written), then bridges, then events with their index rows.
 * The first chunk opens the ledger row, the last one marks it finished at `now`. Rows are
 * read from the plan's columns a chunk at a time, and named by `requestId` as written.
 */
export function* importChunks(
  plan: ImportPlan,
  ledger: Ledger,
  requestId: RequestIds,
  options: ChunkOptions = {},
): Generator<Chunk> {
  const { from = 1, now = ledger.startedAt, rowsPerChunk = ROWS_PER_CHUNK } = options;
  const total = chunkCount(plan, rowsPerChunk);
  const slices: (() => Generator<string>)[] = [];
  const slice = <Row>(rows: { length: number; row(id: number): Row }, write: (part: Row[]) => Generator<string>) => {
    for (let first = 1; first <= rows.length; first += rowsPerChunk) {
      const last = Math.min(rows.length, first + rowsPerChunk - 1);
      slices.push(() => write(rowsOf(rows, first, last)));
    }
  };
  slice(plan.contacts, (part) => inserts(CONTACTS, part, requestId));
  slice(plan.bridges, (part) => inserts(BRIDGES, part, requestId));
  slice(plan.events, function* (part) {
    yield* inserts(EVENTS, part, requestId);
    yield* inserts(EVENT_INDEX, indexRows(part), requestId);
  });
  for (let index = from; index <= total; index++) {
    const statements = [...(slices[index - 1]?.() ?? [])];
    if (index === 1) {
      const row = [ledger.id, ledger.source, ledger.records, 0, total, ledger.startedAt].map(literal).join(", ");
      statements.unshift(
        `INSERT INTO imports (id, source, records, chunksDone, chunksTotal, startedAt) VALUES (${row})`,
      );
    }
    const finished = index === total ? `, finishedAt = ${literal(now)}` : "";
    statements.push(`UPDATE imports SET chunksDone = ${index}${finished} WHERE id = ${literal(ledger.id)}`);
    yield { index, total, statements };
  }
}

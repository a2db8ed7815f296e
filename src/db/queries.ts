import { type SQL, and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { BatchItem } from "drizzle-orm/batch";
import type { ContactRow, Identifiers } from "../domain/contact";
import type { ReconciliationPlan } from "../domain/reconcile";
import { contacts } from "./schema";

export type Database = DrizzleD1Database;

/** Wraps the D1 binding in drizzle (no relational schema needed: every query is a builder). */
export function database(d1: D1Database): Database {
  return drizzle(d1);
}

/** Raised when the guard of a write batch finds the clusters changed since they were read. */
export class ClusterChangedError extends Error {
  constructor() {
    super("the cluster changed since it was read");
    this.name = "ClusterChangedError";
  }
}

// SQLite has no RAISE() outside triggers. A malformed JSON path is the portable way to
// make a statement fail on purpose, and a failed statement rolls back its whole batch.
// The path text is our marker in the error message.
const GUARD_MARKER = "cluster changed since read";

const rowColumns = {
  id: contacts.id,
  email: contacts.email,
  phoneNumber: contacts.phoneNumber,
  linkedId: contacts.linkedId,
  linkPrecedence: contacts.linkPrecedence,
  createdAt: contacts.createdAt,
};

const NOW = sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

/** Live rows of every cluster that shares the request's email or phone (one statement, indexed). */
function inTouchedClusters(db: Database, who: Identifiers): SQL | undefined {
  const roots = db
    .select({ root: sql<number>`coalesce(${contacts.linkedId}, ${contacts.id})` })
    .from(contacts)
    .where(
      and(
        isNull(contacts.deletedAt),
        or(
          who.email === undefined ? undefined : eq(contacts.email, who.email),
          who.phoneNumber === undefined ? undefined : eq(contacts.phoneNumber, who.phoneNumber),
        ),
      ),
    );
  return and(
    isNull(contacts.deletedAt),
    or(inArray(contacts.id, roots), inArray(contacts.linkedId, roots)),
  );
}

/**
 * Reads the clusters a request touches, oldest first: one D1 round trip whose
 * cost depends on the clusters' size, not the table's.
 */
export async function readTouchedClusters(db: Database, who: Identifiers): Promise<ContactRow[]> {
  return db
    .select(rowColumns)
    .from(contacts)
    .where(inTouchedClusters(db, who))
    .orderBy(contacts.createdAt, contacts.id);
}

/**
 * A fingerprint of the clusters' shape (each live row's id and link), the same in
 * TypeScript and SQL. Rows only ever gain higher ids, so an equal stamp means no row
 * was added, removed or re-linked since the read.
 */
export function clusterStamp(rows: readonly ContactRow[]): string {
  return [...rows]
    .sort((a, b) => a.id - b.id)
    .map((row) => `${row.id}:${row.linkedId ?? ""}`)
    .join(",");
}

const stampSql = sql<string>`coalesce(group_concat(${contacts.id} || ':' || coalesce(${contacts.linkedId}, ''), ',' ORDER BY ${contacts.id}), '')`;

/**
 * Commits `plan` as one D1 batch (one transaction, one round trip). Its first
 * statement re-reads the touched clusters and aborts the batch unless they still
 * have `stamp`, so a plan made on stale rows is never written.
 * Returns the inserted contact, if the plan inserts one.
 * @throws ClusterChangedError when the guard aborts the batch.
 */
export async function commitPlan(
  db: Database,
  who: Identifiers,
  stamp: string,
  plan: ReconciliationPlan,
): Promise<ContactRow | null> {
  const guard = db
    .select({
      ok: sql`json_extract('{}', CASE WHEN ${stampSql} = ${stamp} THEN '$' ELSE ${GUARD_MARKER} END)`,
    })
    .from(contacts)
    .where(inTouchedClusters(db, who));
  const writes: BatchItem<"sqlite">[] = [];
  if (plan.promote && plan.primaryId !== null) {
    writes.push(
      db
        .update(contacts)
        .set({ linkPrecedence: "primary", linkedId: null, updatedAt: NOW })
        .where(eq(contacts.id, plan.primaryId)),
    );
  }
  if (plan.relink.length > 0 && plan.primaryId !== null) {
    // One bound parameter for any number of ids: D1 caps a statement at 100.
    writes.push(
      db
        .update(contacts)
        .set({ linkPrecedence: "secondary", linkedId: plan.primaryId, updatedAt: NOW })
        .where(sql`${contacts.id} IN (SELECT value FROM json_each(${JSON.stringify(plan.relink)}))`),
    );
  }
  const insert = plan.insert ? db.insert(contacts).values(plan.insert).returning(rowColumns) : null;

  try {
    if (insert) {
      const results = await db.batch([guard, ...writes, insert]);
      return results[results.length - 1]?.[0] ?? null;
    }
    await db.batch([guard, ...writes]);
    return null;
  } catch (err) {
    if (isGuardAbort(err)) throw new ClusterChangedError();
    throw err;
  }
}

function isGuardAbort(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message.includes(GUARD_MARKER)) return true;
  }
  return false;
}

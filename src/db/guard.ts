import { type Placeholder, type SQL, sql } from "drizzle-orm";
import type { ContactRow, Identifiers } from "../domain/contact";
import { type ClusterLimits, maxContacts } from "../domain/limits";
import { firstHolder, type ReconciliationPlan, rootOf } from "../domain/reconcile";
import type { Database } from "./client";
import { hitsSql, limitsKey, sidesSql, straddlingSql, valuesOf } from "./cluster-sql";
import { bound, prebuilt } from "./statement-cache";

/** Raised when the guard of a write batch finds that what the plan relied on has changed. */
export class ClusterChangedError extends Error {
  constructor() {
    super("the clusters changed since they were read");
    this.name = "ClusterChangedError";
  }
}

// SQLite has no RAISE() outside triggers. A malformed JSON path is the portable way to
// make a statement fail on purpose, and a failed statement rolls back its whole batch.
// The path text is our marker in the error message.
const GUARD_MARKER = "cluster changed since read";

/**
 * What a plan relies on, as a string that TypeScript computes from the rows read
 * and SQL recomputes inside the write transaction:
 * - the cluster of the first contact holding the email, and of the first holding the
 *   phone (so whether each is known), and whether each root is still a live primary;
 * - whether the chosen primary is still live.
 * Rows merely added to those clusters do not change it: the writes are set-based and
 * carry them along. What such rows can break, the cluster limits, the guard rechecks
 * on its own (see commitPlan).
 */
export function planStamp(rows: readonly ContactRow[], who: Identifiers, primaryId: number | null): string {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const state = (holder: ContactRow | undefined) => {
    if (!holder) return "-";
    const root = rootOf(holder);
    return `${root}${byId.get(root)?.linkPrecedence === "primary" ? "p" : "x"}`;
  };
  const primaryLive = primaryId !== null && byId.has(primaryId) ? 1 : 0;
  const email = state(firstHolder(rows, "email", who.email));
  const phone = state(firstHolder(rows, "phoneNumber", who.phoneNumber));
  return `${email};${phone}|${primaryLive}`;
}

/** planStamp in SQL, over the CTEs of hitsSql. */
function planStampSql(): SQL {
  const state = (via: "e" | "p") =>
    sql`coalesce((SELECT hit.root || CASE WHEN c.linkPrecedence = 'primary' AND c.deletedAt IS NULL THEN 'p' ELSE 'x' END
                    FROM hit LEFT JOIN contacts c ON c.id = hit.root WHERE hit.via = ${via}), '-')`;
  return sql`${state("e")} || ';' || ${state("p")} || '|' ||
             EXISTS (SELECT 1 FROM contacts WHERE id = ${sql.placeholder("primaryId")} AND deletedAt IS NULL)`;
}

/**
 * True (1) when the clusters, as committed now, still have room for what the plan adds:
 * the distinct emails, phones and contacts of the touched clusters' windows plus the
 * plan's growth stay within the limits. A cluster over them fills its window past
 * `maxContacts`, so it fails this too. Counts are what concurrent writes change, so they
 * are rechecked here, inside the transaction, not trusted from the read.
 */
function roomSql(grows: boolean, limits: ClusterLimits): SQL {
  if (!grows) return sql`1`;
  return sql`(SELECT count(*) + ${sql.placeholder("growthContacts")} <= ${maxContacts(limits)}
                 AND count(DISTINCT email) + ${sql.placeholder("growthEmails")} <= ${limits.emails}
                 AND count(DISTINCT phoneNumber) + ${sql.placeholder("growthPhones")} <= ${limits.phones}
                FROM sides)`;
}

/**
 * The first statement of a write batch: fails, and so rolls the whole batch back, unless
 * `actual` (SQL computing a stamp inside the transaction) equals `expected`.
 */
export function guardStatement(db: Database, actual: SQL, expected: string | Placeholder) {
  // A select builder, not db.run(): drizzle's D1 batch only binds parameters of builders.
  return db
    .select({ ok: sql`json_extract('{}', CASE WHEN (${actual}) = ${expected} THEN '$' ELSE ${GUARD_MARKER} END)` })
    .from(sql`(SELECT 1)`);
}

/** True when `err` is the failure of a guard statement (the batch was rolled back on purpose). */
export function isGuardAbort(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message.includes(GUARD_MARKER)) return true;
  }
  return false;
}

/**
 * The guard of one plan's commit: aborts the whole batch unless the database still has
 * `stamp` (see planStamp) and, when the plan grows the clusters, the touched clusters still
 * have room for `growth` under `limits` (see roomSql).
 */
export function planGuard(
  db: Database,
  who: Identifiers,
  stamp: string,
  primaryId: number | null,
  growth: ReconciliationPlan["growth"],
  limits: ClusterLimits,
  merges: boolean,
): D1PreparedStatement {
  const room = growth === null ? "any" : "room";
  const guard = prebuilt(`guard:${room}:${merges ? "merge" : "one"}:${limitsKey(limits)}`, () => {
    // Out of room, or a merge across a standing separation (written by an unmerge since the
    // read, even in this batch), and the stamp computed in SQL gets a suffix planStamp never
    // has: the guard fails.
    const separated = merges ? sql`EXISTS (${straddlingSql(sql.raw("1"))})` : sql`0`;
    const actual = sql`(
      WITH ${hitsSql()}, ${sidesSql(limits, ", email, phoneNumber")}
      SELECT (${planStampSql()}) || CASE WHEN ${roomSql(growth !== null, limits)} THEN '' ELSE '|full' END
             || CASE WHEN ${separated} THEN '|separated' ELSE '' END)`;
    return guardStatement(db, actual, sql.placeholder("stamp")).toSQL();
  });
  const { contacts, emails, phones } = growth ?? { contacts: 0, emails: 0, phones: 0 };
  return bound(db, guard, {
    ...valuesOf(who),
    primaryId,
    stamp,
    growthContacts: contacts,
    growthEmails: emails,
    growthPhones: phones,
  });
}

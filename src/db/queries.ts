import { and, DrizzleQueryError, eq, fillPlaceholders, isNull, or, type Placeholder, type SQL, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { ContactRow, HistoryEvent, Identifiers } from "../domain/contact";
import { type ClusterLimits, maxContacts } from "../domain/limits";
import { firstHolder, type ReconciliationPlan, rootOf } from "../domain/reconcile";
import { contactBridges, contactEvents, contacts } from "./schema";

export type Database = DrizzleD1Database & { $client: D1Database };

const dialect = new SQLiteAsyncDialect();

/** Wraps the D1 binding in drizzle (no relational schema needed: every query is a builder). */
export function database(d1: D1Database): Database {
  return drizzle(d1);
}

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

export const rowColumns = {
  id: contacts.id,
  email: contacts.email,
  phoneNumber: contacts.phoneNumber,
  linkedId: contacts.linkedId,
  linkPrecedence: contacts.linkPrecedence,
  createdAt: contacts.createdAt,
};

export const NOW = sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
export const live = isNull(contacts.deletedAt);

/** A limit as SQL text: always a small integer (src/domain/limits.ts), and LIMIT wants an integer, not D1's REAL. */
function integer(n: number): SQL {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return sql.raw(String(n));
}

/**
 * The CTEs every request-path statement starts from: `hit`, the first live contact (lowest
 * id) holding the email and the first holding the phone, each with its cluster's root
 * (0 to 2 rows, two index lookups); `roots`, the lower and higher of those roots.
 * The email and the phone are the placeholders `email` and `phone` (see valuesOf).
 */
function hitsSql(): SQL {
  const first = (via: "e" | "p", column: "email" | "phoneNumber", value: "email" | "phone") =>
    sql`SELECT ${via} AS via, id, coalesce(linkedId, id) AS root FROM (
          SELECT id, linkedId FROM contacts
           WHERE deletedAt IS NULL AND ${sql.raw(column)} = ${sql.placeholder(value)} ORDER BY id LIMIT 1)`;
  return sql`hit AS (${first("e", "email", "email")} UNION ALL ${first("p", "phoneNumber", "phone")}),
    roots AS (SELECT min(root) AS low, max(root) AS high FROM hit)`;
}

/**
 * The secondaries of the clusters whose roots are in `roots` (the lower root, and the
 * higher one when it differs), each cluster cut at its oldest `maxContacts + 1`
 * secondaries by id: one more than a cluster within the limits can hold, so that a
 * cluster over them shows as such and no read grows with it.
 */
function windowSql(columns: SQL, limits: ClusterLimits): SQL {
  const cut = integer(maxContacts(limits) + 1);
  return sql`SELECT * FROM (SELECT ${columns} FROM contacts
                             WHERE deletedAt IS NULL AND linkedId = (SELECT low FROM roots)
                             ORDER BY id LIMIT ${cut})
             UNION ALL
             SELECT * FROM (SELECT ${columns} FROM contacts
                             WHERE deletedAt IS NULL AND linkedId = (SELECT high FROM roots)
                               AND (SELECT high <> low FROM roots)
                             ORDER BY id LIMIT ${cut})`;
}

const ROW_COLUMNS = sql.raw("id, email, phoneNumber, linkedId, linkPrecedence, createdAt");

/** Selects the columns of ContactRow from the rows of a subquery. */
function selectRows(db: Database, from: SQL) {
  return db
    .select({
      id: sql<number>`id`,
      email: sql<string | null>`email`,
      phoneNumber: sql<string | null>`phoneNumber`,
      linkedId: sql<number | null>`linkedId`,
      linkPrecedence: sql<"primary" | "secondary">`linkPrecedence`,
      createdAt: sql<string>`createdAt`,
    })
    .from(sql`(${from}) AS touched`)
    .orderBy(sql`createdAt`, sql`id`);
}

/**
 * The touched clusters as one indexed statement, bounded by the limits whatever the
 * table holds: the two first holders, their roots, and each root's secondaries up to
 * just past `maxContacts` (at most 2 × (maxContacts + 2) + 2 rows).
 */
function touchedClusters(db: Database, limits: ClusterLimits) {
  return selectRows(
    db,
    sql`WITH ${hitsSql()}
        SELECT ${ROW_COLUMNS} FROM contacts
         WHERE deletedAt IS NULL AND (id IN (SELECT root FROM hit) OR id IN (SELECT id FROM hit))
        UNION
        ${windowSql(ROW_COLUMNS, limits)}`,
  );
}

/**
 * Reads the clusters a request touches, oldest first: one D1 round trip whose cost
 * is bounded by the cluster limits, not by the clusters' size or the table's.
 */
export async function readTouchedClusters(
  db: Database,
  who: Identifiers,
  limits: ClusterLimits,
): Promise<ContactRow[]> {
  try {
    const read = prebuilt(`read:${limitsKey(limits)}`, () => touchedClusters(db, limits).toSQL());
    const { results } = await bound(db, read, valuesOf(who)).all<ContactRow>();
    return results;
  } catch (err) {
    throw withoutParameters(err);
  }
}

/**
 * Reads the live cluster of contact `id` (its primary and its oldest secondaries, up to
 * just past `maxContacts`), oldest first, in one statement; empty when `id` is unknown,
 * erased or soft-deleted.
 */
export async function readClusterOfContact(db: Database, id: number, limits: ClusterLimits): Promise<ContactRow[]> {
  try {
    return await selectRows(
      db,
      sql`WITH roots AS (SELECT coalesce(linkedId, id) AS low, coalesce(linkedId, id) AS high
                           FROM contacts WHERE id = ${id} AND deletedAt IS NULL)
          SELECT ${ROW_COLUMNS} FROM contacts WHERE deletedAt IS NULL AND id = (SELECT low FROM roots)
          UNION
          ${windowSql(ROW_COLUMNS, limits)}`,
    );
  } catch (err) {
    throw withoutParameters(err);
  }
}

/**
 * The history of the cluster of contact `id`, oldest first, in one statement: every event
 * that names a contact of the cluster (or `id` itself, live or not), then, going back in
 * time, every earlier event that names a contact named by an event already taken. So it
 * follows the clusters merged in, and a former cluster into what an erasure left of it, but
 * not the later events of a cluster that split off. Empty for an id no event names.
 */
export async function readHistory(db: Database, id: number): Promise<HistoryEvent[]> {
  const rows = await db
    .all<{ at: string; kind: HistoryEvent["kind"]; primaryContactId: number; contactIds: string; requestId: string }>(
      sql`
    WITH RECURSIVE
      roots(root) AS (SELECT coalesce(linkedId, id) FROM contacts WHERE id = ${id} AND deletedAt IS NULL),
      start(contactId) AS (
        SELECT ${id}
        UNION SELECT c.id FROM contacts c
         WHERE c.deletedAt IS NULL AND (c.id IN (SELECT root FROM roots) OR c.linkedId IN (SELECT root FROM roots))
      ),
      -- (contact, until): the events up to \`until\` that name this contact belong to the history.
      reach(contactId, until) AS (
        SELECT contactId, 9223372036854775807 FROM start
        UNION
        SELECT other.contactId, named.eventId
          FROM reach
          JOIN contact_event_contacts named ON named.contactId = reach.contactId AND named.eventId <= reach.until
          JOIN contact_event_contacts other ON other.eventId = named.eventId
      )
    SELECT e.at, e.kind, e.primaryContactId, e.contactIds, e.requestId
      FROM contact_events e
     WHERE e.id IN (
       SELECT named.eventId FROM reach
         JOIN contact_event_contacts named ON named.contactId = reach.contactId AND named.eventId <= reach.until
     )
     ORDER BY e.id`,
    )
    .catch((err: unknown) => {
      throw withoutParameters(err);
    });
  return rows.map((row) => ({ ...row, contactIds: JSON.parse(row.contactIds) as number[] }));
}

/** True when contact `id` is stored and not soft-deleted. */
export async function isLiveContact(db: Database, id: number): Promise<boolean> {
  try {
    const found = await db
      .select({ id: contacts.id })
      .from(contacts)
      .where(and(live, eq(contacts.id, id)))
      .limit(1);
    return found.length > 0;
  } catch (err) {
    throw withoutParameters(err);
  }
}

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
                FROM win)`;
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

/**
 * One plan to commit: the request (and its id, for the events), what the plan relies on
 * (see planStamp), the plan, and the cluster limits it was made under (the guard rechecks them).
 */
export type PlannedCommit = {
  who: Identifiers;
  stamp: string;
  plan: ReconciliationPlan;
  requestId: string;
  limits: ClusterLimits;
};

/**
 * The statements of one plan's commit, in order:
 * 1. a guard that aborts the whole batch unless the database still has `stamp`
 *    (see planStamp) and the touched clusters still have room for the plan's growth
 *    under `limits` (see roomSql), so a plan made on stale rows or counts is never written;
 * 2. the set-based writes: promote, fold clusters under the primary, insert, and what
 *    records them (planRecords: the bridge, the events);
 * 3. a read of the touched clusters as committed, which is the answer. A new primary
 *    needs none: its guard has shown that nothing holds its email or phone, so it is
 *    its whole cluster, and its insert returns it.
 * Returns the statements and which of them answers.
 * Each statement binds a handful of parameters, however many plans share a batch
 * (D1 caps a statement at 100).
 */
function commitStatements(
  db: Database,
  { who, stamp, plan, requestId, limits }: PlannedCommit,
): { statements: D1PreparedStatement[]; answer: number } {
  const primaryId = plan.primaryId;
  const shape = limitsKey(limits);
  const values = { ...valuesOf(who), primaryId, stamp, requestId };
  const room = plan.growth === null ? "any" : "room";
  const guard = prebuilt(`guard:${room}:${shape}`, () => {
    // Out of room, the stamp computed in SQL gets a suffix planStamp never has: the guard fails.
    const actual = sql`(
      WITH ${hitsSql()},
      win AS (
        SELECT email, phoneNumber FROM contacts WHERE deletedAt IS NULL AND id IN (SELECT root FROM hit)
        UNION ALL
        ${windowSql(sql.raw("email, phoneNumber"), limits)}
      )
      SELECT (${planStampSql()}) || CASE WHEN ${roomSql(plan.growth !== null, limits)} THEN '' ELSE '|full' END)`;
    return guardStatement(db, actual, sql.placeholder("stamp")).toSQL();
  });
  const growth = plan.growth ?? { contacts: 0, emails: 0, phones: 0 };
  const statements = [
    bound(db, guard, {
      ...values,
      growthContacts: growth.contacts,
      growthEmails: growth.emails,
      growthPhones: growth.phones,
    }),
  ];
  if (primaryId !== null && plan.promote) {
    const promote = prebuilt("promote", () =>
      db
        .update(contacts)
        .set({ linkPrecedence: "primary", linkedId: null, updatedAt: NOW })
        .where(eq(contacts.id, sql.placeholder("primaryId")))
        .toSQL(),
    );
    statements.push(bound(db, promote, values));
  }
  if (primaryId !== null && plan.absorb.length > 0) {
    const absorb = prebuilt("absorb", () => {
      // One bound parameter for any number of roots: D1 caps a statement at 100.
      const roots = sql`(SELECT value FROM json_each(${sql.placeholder("absorb")}))`;
      const primary = sql.placeholder("primaryId");
      return db
        .update(contacts)
        .set({ linkPrecedence: "secondary", linkedId: sql`${primary}`, updatedAt: NOW })
        .where(
          and(
            live,
            sql`${contacts.id} <> ${primary}`,
            or(sql`${contacts.id} IN ${roots}`, sql`${contacts.linkedId} IN ${roots}`),
          ),
        )
        .toSQL();
    });
    statements.push(bound(db, absorb, { ...values, absorb: JSON.stringify(plan.absorb) }));
  }
  if (plan.insert) {
    const returning = primaryId === null;
    const insert = prebuilt(`insert:${returning}`, () => {
      const row = {
        email: sql.placeholder("insertEmail"),
        phoneNumber: sql.placeholder("insertPhone"),
        linkPrecedence: sql`${sql.placeholder("insertPrecedence")}`,
        linkedId: sql.placeholder("insertLinkedId"),
      };
      const statement = db.insert(contacts).values(row);
      return returning ? statement.returning(rowColumns).toSQL() : statement.toSQL();
    });
    const { email, phoneNumber, linkPrecedence, linkedId } = plan.insert;
    const row = { insertEmail: email, insertPhone: phoneNumber, insertPrecedence: linkPrecedence };
    statements.push(bound(db, insert, { ...row, insertLinkedId: linkedId }));
  }
  const answer = primaryId === null && plan.insert ? statements.length - 1 : -1;
  statements.push(...planRecords(db, who, plan, requestId));
  if (answer >= 0) return { statements, answer };
  const read = prebuilt(`read:${shape}`, () => touchedClusters(db, limits).toSQL());
  return { statements, answer: statements.push(bound(db, read, values)) - 1 };
}

/** A statement's SQL text and its parameters, some of them placeholders named for the values of a call. */
type Prebuilt = { sql: string; params: unknown[] };

// Building a statement through drizzle's builders costs more of a write's CPU than running
// it (measured: 15% of the Worker's busy time for a new customer, against 6% for planning
// and answering). The request path builds each statement's text once per shape (and
// cluster limits) per isolate, with placeholders, and binds each call's values to it.
const prebuiltStatements = new Map<string, Prebuilt>();

function prebuilt(key: string, build: () => Prebuilt): Prebuilt {
  let statement = prebuiltStatements.get(key);
  if (!statement) {
    // Shapes are a handful per limits in force; a change of limits starts over.
    if (prebuiltStatements.size >= 256) prebuiltStatements.clear();
    statement = build();
    prebuiltStatements.set(key, statement);
  }
  return statement;
}

/** The D1 statement of `statement` with `values` bound to its placeholders, on the client under `db`. */
function bound(db: Database, statement: Prebuilt, values: Record<string, unknown>): D1PreparedStatement {
  return db.$client.prepare(statement.sql).bind(...fillPlaceholders(statement.params, values));
}

function limitsKey(limits: ClusterLimits): string {
  return `${limits.emails}:${limits.phones}`;
}

/** The placeholders of hitsSql: a missing value matches nothing. */
function valuesOf(who: Identifiers): { email: string | null; phone: string | null } {
  return { email: who.email ?? null, phone: who.phoneNumber ?? null };
}

// SQL text of one commit's statements without their values (measured: guard about 1.9 KB
// with its bounded windows and room check, read back 1.4 KB, each write and record under
// 0.4 KB; 4.7 KB for the largest plan), rounded up.
const COMMIT_SQL_BYTES = 5_500;

/**
 * What committing `commit` adds to a batch: its statements (as commitStatements makes
 * them), and bytes of SQL and values (an upper bound).
 */
export function commitCost({ who, plan }: PlannedCommit): { statements: number; bytes: number } {
  const writes = Number(plan.promote) + Number(plan.absorb.length > 0) + Number(plan.insert !== null);
  const records = Number(plan.bridge) + Number(plan.outcome === "merged") + Number(plan.insert !== null);
  const readBack = plan.primaryId === null ? 0 : 1;
  const values = 4 * ((who.email?.length ?? 0) + (who.phoneNumber?.length ?? 0)) + 12 * plan.absorb.length;
  // Plus the guard, and the batch's one index of new events (counted for each: an upper bound).
  return { statements: 2 + writes + records + readBack, bytes: COMMIT_SQL_BYTES + values };
}

/**
 * Commits several plans as one D1 batch (one transaction, one round trip): each
 * plan's guard, writes, records and read back in turn, so each guard sees the writes of
 * the plans before it, then one index of their events (counted with the first plan). Returns, for each plan, its read back (its touched clusters as
 * committed right after its own writes, which is its answer) and its statements.
 * @throws ClusterChangedError when any guard aborts the batch: then nothing is written.
 */
export async function commitPlans(
  db: Database,
  commits: readonly PlannedCommit[],
): Promise<{ rows: ContactRow[]; statements: number }[]> {
  const statements: D1PreparedStatement[] = [];
  const readBacks: { index: number; statements: number }[] = [];
  for (const commit of commits) {
    const own = commitStatements(db, commit);
    readBacks.push({ index: statements.length + own.answer, statements: own.statements.length });
    statements.push(...own.statements);
  }
  // The events of every plan indexed by contact at once, after all of them.
  const lead = readBacks[0];
  if (lead && commits.some(({ plan }) => plan.insert !== null || plan.outcome === "merged" || plan.bridge)) {
    const index = prebuilt("index-events", () => dialect.sqlToQuery(indexNewEventsSql));
    statements.push(bound(db, index, {}));
    lead.statements += 1;
  }
  if (statements.length === 0) return [];
  try {
    const results = await db.$client.batch<ContactRow>(statements);
    return readBacks.map(({ index, statements }) => ({ rows: results[index]?.results ?? [], statements }));
  } catch (err) {
    if (isGuardAbort(err)) throw new ClusterChangedError();
    throw withoutParameters(err);
  }
}

/**
 * Commits one plan as one D1 batch (see commitPlans).
 * @throws ClusterChangedError when the guard aborts the batch.
 */
export async function commitPlan(
  db: Database,
  who: Identifiers,
  stamp: string,
  plan: ReconciliationPlan,
  requestId: string,
  limits: ClusterLimits,
): Promise<ContactRow[]> {
  const [committed] = await commitPlans(db, [{ who, stamp, plan, requestId, limits }]);
  return committed?.rows ?? [];
}

/** The contact a commit just inserted: ids only grow (AUTOINCREMENT) and D1 has one writer. */
const NEWEST_CONTACT = sql`(SELECT max(${contacts.id}) FROM ${contacts})`;

/** The oldest live contact holding `value` in `column`, at commit time. */
function oldestHolding(db: Database, column: typeof contacts.email | typeof contacts.phoneNumber, value: Placeholder) {
  return db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(live, eq(column, value)))
    .orderBy(contacts.createdAt, contacts.id)
    .limit(1);
}

/**
 * The statements that record what a plan does, to run right after its writes in the same
 * batch (so that they compose into a commit of several plans):
 * - a bridge when the plan merges clusters by known values alone, naming the contact each
 *   value matches at commit time;
 * - its events: `merged` (the absorbed roots), then `created` or `linked` (the new contact).
 * The batch indexes them by contact after its last plan (indexNewEvents, in commitPlans).
 */
function planRecords(
  db: Database,
  who: Identifiers,
  plan: ReconciliationPlan,
  requestId: string,
): D1PreparedStatement[] {
  const records: D1PreparedStatement[] = [];
  const primaryId = plan.primaryId;
  if (plan.bridge && who.email !== undefined && who.phoneNumber !== undefined) {
    const bridge = prebuilt("bridge", () =>
      db
        .insert(contactBridges)
        .values({
          emailContactId: sql`(${oldestHolding(db, contacts.email, sql.placeholder("email"))})`,
          phoneContactId: sql`(${oldestHolding(db, contacts.phoneNumber, sql.placeholder("phone"))})`,
        })
        .toSQL(),
    );
    records.push(bound(db, bridge, valuesOf(who)));
  }
  if (primaryId !== null && plan.outcome === "merged") {
    const merged = prebuilt("event:merged", () =>
      db
        .insert(contactEvents)
        .values({
          kind: "merged",
          primaryContactId: sql.placeholder("primaryId"),
          contactIds: sql.placeholder("contactIds"),
          requestId: sql.placeholder("requestId"),
        })
        .toSQL(),
    );
    // A promotion alone (the primary's own primary was soft-deleted) absorbs no root.
    const contactIds = JSON.stringify(plan.absorb.length > 0 ? plan.absorb : [primaryId]);
    records.push(bound(db, merged, { primaryId, contactIds, requestId }));
  }
  if (plan.insert) {
    const kind = primaryId === null ? "created" : "linked";
    const event = prebuilt(`event:${kind}`, () =>
      db
        .insert(contactEvents)
        .values({
          kind,
          primaryContactId: primaryId === null ? NEWEST_CONTACT : sql.placeholder("primaryId"),
          contactIds: sql`json_array(${NEWEST_CONTACT})`,
          requestId: sql.placeholder("requestId"),
        })
        .toSQL(),
    );
    records.push(bound(db, event, { primaryId, requestId }));
  }
  return records;
}

/**
 * Indexes by contact every event not indexed yet: its contacts, its primary and its
 * previous primary. One statement for any number of events written before it in the batch.
 */
export function indexNewEvents(db: Database) {
  return db.run(indexNewEventsSql);
}

const indexNewEventsSql = sql`
    INSERT OR IGNORE INTO contact_event_contacts (contactId, eventId)
    SELECT j.value, e.id
      FROM contact_events e,
           json_each(json_insert(e.contactIds, '$[#]', e.primaryContactId, '$[#]', e.previousPrimaryContactId)) j
     WHERE e.id > (SELECT coalesce(max(eventId), 0) FROM contact_event_contacts) AND j.value IS NOT NULL`;

/**
 * D1's own error in place of drizzle's wrapper, whose message quotes the query's
 * parameters: the caller's email and phone must not reach logs or traces.
 */
export function withoutParameters(err: unknown): unknown {
  return err instanceof DrizzleQueryError && err.cause instanceof Error ? err.cause : err;
}

/** True when `err` is the failure of a guard statement (the batch was rolled back on purpose). */
export function isGuardAbort(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message.includes(GUARD_MARKER)) return true;
  }
  return false;
}

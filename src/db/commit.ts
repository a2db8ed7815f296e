import { and, eq, or, type Placeholder, sql } from "drizzle-orm";
import type { ContactRow, Identifiers } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import type { ReconciliationPlan } from "../domain/reconcile";
import { type Database, live, NOW, rowColumns, withoutParameters } from "./client";
import { limitsKey, touchedClusters, valuesOf } from "./cluster-sql";
import { indexNewEventsQuery } from "./event-index";
import { ClusterChangedError, isGuardAbort, planGuard } from "./guard";
import { contactBridges, contactEvents, contacts } from "./schema";
import { bound, prebuilt } from "./statement-cache";

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
  const values = { ...valuesOf(who), primaryId, requestId };
  const statements = [planGuard(db, who, stamp, primaryId, plan.growth, limits, plan.absorb.length > 0)];
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
  const read = prebuilt(`read:${limitsKey(limits)}`, () => touchedClusters(db, limits).toSQL());
  return { statements, answer: statements.push(bound(db, read, values)) - 1 };
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
    const index = prebuilt("index-events", indexNewEventsQuery);
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
 *   value matches at commit time, and the request;
 * - its events: `merged` (the absorbed roots, and the bridge), then `created` or `linked` (the new contact).
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
  const bridged = plan.bridge && who.email !== undefined && who.phoneNumber !== undefined;
  if (bridged) {
    const bridge = prebuilt("bridge", () =>
      db
        .insert(contactBridges)
        .values({
          emailContactId: sql`(${oldestHolding(db, contacts.email, sql.placeholder("email"))})`,
          phoneContactId: sql`(${oldestHolding(db, contacts.phoneNumber, sql.placeholder("phone"))})`,
          requestId: sql.placeholder("requestId"),
        })
        .toSQL(),
    );
    records.push(bound(db, bridge, { ...valuesOf(who), requestId }));
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
          // The bridge this plan's records inserted just before (ids only grow, D1 has one writer).
          bridgeId: sql`CASE WHEN ${sql.placeholder("bridged")} THEN (SELECT max(${contactBridges.id}) FROM ${contactBridges}) END`,
        })
        .toSQL(),
    );
    // A promotion alone (the primary's own primary was soft-deleted) absorbs no root.
    const contactIds = JSON.stringify(plan.absorb.length > 0 ? plan.absorb : [primaryId]);
    records.push(bound(db, merged, { primaryId, contactIds, requestId, bridged: Number(bridged) }));
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

import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Bridge, ErasurePlan, ErasureTarget, StoredContact } from "../domain/erasure";
import type { StoredBridge } from "../domain/graph";
import { type Database, NOW, rowColumns, withoutParameters } from "./client";
import { indexNewEvents } from "./event-index";
import { ClusterChangedError, guardStatement, isGuardAbort } from "./guard";
import { contactBridges, contactEvents, contactSeparations, contacts } from "./schema";

/** The contacts a target names: a live contact by id, or every row (soft-deleted too) holding a value. */
function named(target: ErasureTarget): SQL {
  if ("cluster" in target) return sql`${contacts.id} = ${target.cluster} AND ${contacts.deletedAt} IS NULL`;
  const { email, phoneNumber } = target.values;
  return sql`(${contacts.email} = ${email ?? null} OR ${contacts.phoneNumber} = ${phoneNumber ?? null})`;
}

/**
 * The ids of every row an erasure reads and may write: the rows of the touched clusters
 * (the named contacts' roots, and every row linked to them) and every row that links to one
 * of those (so that no row is left pointing at a deleted contact).
 */
function scope(target: ErasureTarget): SQL {
  return sql`
    WITH named AS (SELECT id, linkedId, deletedAt FROM contacts WHERE ${named(target)}),
         roots(root) AS (SELECT CASE WHEN deletedAt IS NULL THEN coalesce(linkedId, id) ELSE id END FROM named),
         core(id) AS (
           SELECT id FROM contacts WHERE id IN (SELECT root FROM roots) OR linkedId IN (SELECT root FROM roots)
           UNION SELECT id FROM named
         )
    SELECT id FROM contacts WHERE id IN (SELECT id FROM core) OR linkedId IN (SELECT id FROM core)`;
}

const bridgesOf = (ids: SQL) =>
  sql`${contactBridges.emailContactId} IN (${ids}) OR ${contactBridges.phoneContactId} IN (${ids})`;

/**
 * Reads what an erasure (or an unmerge) needs in one round trip: every row in its scope,
 * soft-deleted ones included, by id, and the bridges of those rows.
 */
export async function readErasureScope(
  db: Database,
  target: ErasureTarget,
): Promise<{ rows: StoredContact[]; bridges: StoredBridge[] }> {
  try {
    const [rows, bridges] = await db.batch([
      db
        .select({ ...rowColumns, deletedAt: contacts.deletedAt })
        .from(contacts)
        .where(sql`${contacts.id} IN (${scope(target)})`)
        .orderBy(contacts.id),
      db
        .select({
          id: contactBridges.id,
          kind: contactBridges.kind,
          emailContactId: contactBridges.emailContactId,
          phoneContactId: contactBridges.phoneContactId,
          createdAt: contactBridges.createdAt,
          requestId: contactBridges.requestId,
        })
        .from(contactBridges)
        .where(bridgesOf(scope(target)))
        .orderBy(contactBridges.id),
    ]);
    return { rows, bridges };
  } catch (err) {
    throw withoutParameters(err);
  }
}

/**
 * Everything an erasure plan relies on, computed from what was read: each row's links, which
 * of its values and whether it is soft-deleted, and the bridges. Values never change but to
 * null, and a new row holding an erased value joins the scope, so this is the whole state.
 */
export function erasureStamp(rows: readonly StoredContact[], bridges: readonly Bridge[]): string {
  const flag = (value: unknown) => (value === null ? 1 : 0);
  const rowStates = [...rows]
    .sort((a, b) => a.id - b.id)
    .map(
      (row) =>
        `${row.id}:${row.linkedId ?? ""}:${row.linkPrecedence}:${flag(row.email)}${flag(row.phoneNumber)}${flag(row.deletedAt)}`,
    );
  const bridgeIds = bridges.map((bridge) => bridge.id).sort((a, b) => a - b);
  return `${rowStates.join(",")}|${bridgeIds.join(",")}`;
}

function erasureStampSql(target: ErasureTarget): SQL {
  return sql`
    SELECT coalesce((
             SELECT group_concat(id || ':' || coalesce(linkedId, '') || ':' || linkPrecedence || ':'
                      || (email IS NULL) || (phoneNumber IS NULL) || (deletedAt IS NULL), ',' ORDER BY id)
               FROM contacts WHERE id IN (${scope(target)})
           ), '')
           || '|' || coalesce((
             SELECT group_concat(id, ',' ORDER BY id) FROM contact_bridges WHERE ${bridgesOf(scope(target))}
           ), '')`;
}

/** `IN` over a JSON array of ids: one bound parameter for any number (D1 caps a statement at 100). */
const inIds = (ids: readonly number[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/**
 * Commits an erasure plan (or an unmerge's) as one D1 batch: the guard (erasureStamp),
 * re-linking, erased values, bridges, deleted contacts and their separations, the
 * separation an unmerge records, then its events and their index. Order matters for the
 * foreign keys: nothing points at a contact when it is deleted.
 * @throws ClusterChangedError when the guard aborts the batch.
 */
export async function commitErasure(
  db: Database,
  target: ErasureTarget,
  stamp: string,
  plan: ErasurePlan,
  requestId: string,
): Promise<void> {
  const writes: BatchItem<"sqlite">[] = [];
  if (plan.relink.length > 0) {
    const links = JSON.stringify(plan.relink);
    // json_each has an `id` column of its own: the contact's id is spelled out in full.
    writes.push(
      db
        .update(contacts)
        .set({
          linkedId: sql`(SELECT json_extract(value, '$.linkedId') FROM json_each(${links}) WHERE json_extract(value, '$.id') = "contacts"."id")`,
          linkPrecedence: sql`(SELECT json_extract(value, '$.linkPrecedence') FROM json_each(${links}) WHERE json_extract(value, '$.id') = "contacts"."id")`,
          updatedAt: NOW,
        })
        .where(sql`${contacts.id} IN (SELECT json_extract(value, '$.id') FROM json_each(${links}))`),
    );
  }
  if (plan.clearEmail.length > 0) {
    writes.push(
      db
        .update(contacts)
        .set({ email: null, updatedAt: NOW })
        .where(sql`${contacts.id} IN ${inIds(plan.clearEmail)}`),
    );
  }
  if (plan.clearPhone.length > 0) {
    writes.push(
      db
        .update(contacts)
        .set({ phoneNumber: null, updatedAt: NOW })
        .where(sql`${contacts.id} IN ${inIds(plan.clearPhone)}`),
    );
  }
  if (plan.removedBridges.length > 0) {
    writes.push(db.delete(contactBridges).where(sql`${contactBridges.id} IN ${inIds(plan.removedBridges)}`));
  }
  if (plan.addedBridges.length > 0) {
    writes.push(
      db.insert(contactBridges).select(sql`
        SELECT NULL, 'legacy', json_extract(value, '$.emailContactId'), json_extract(value, '$.phoneContactId'), ${NOW}, NULL
          FROM json_each(${JSON.stringify(plan.addedBridges)}) ORDER BY key`),
    );
  }
  if (plan.deleted.length > 0) {
    // A deleted contact's separations go with it (the contract: deleting A or B lifts them).
    const gone = inIds(plan.deleted);
    writes.push(
      db
        .delete(contactSeparations)
        .where(sql`${contactSeparations.lowContactId} IN ${gone} OR ${contactSeparations.highContactId} IN ${gone}`),
      db.delete(contacts).where(sql`${contacts.id} IN ${gone}`),
    );
  }
  if (plan.separate) {
    const [lowContactId, highContactId] = plan.separate;
    writes.push(db.insert(contactSeparations).values({ lowContactId, highContactId, requestId }).onConflictDoNothing());
  }
  if (plan.events.length > 0) {
    // Every column, in table order (drizzle's INSERT ... SELECT lists them all).
    writes.push(
      db.insert(contactEvents).select(sql`
        SELECT NULL, ${NOW}, json_extract(value, '$.kind'), json_extract(value, '$.primaryContactId'),
               json_extract(value, '$.contactIds'), json_extract(value, '$.previousPrimaryContactId'), ${requestId},
               json_extract(value, '$.bridgeId')
          FROM json_each(${JSON.stringify(plan.events)}) ORDER BY key`),
      indexNewEvents(db),
    );
  }
  try {
    await db.batch([guardStatement(db, erasureStampSql(target), stamp), ...writes]);
  } catch (err) {
    if (isGuardAbort(err)) throw new ClusterChangedError();
    throw withoutParameters(err);
  }
}

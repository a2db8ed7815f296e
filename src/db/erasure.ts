import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Bridge, ErasurePlan, ErasureTarget, StoredContact } from "../domain/erasure";
import type { StoredBridge } from "../domain/graph";
import { bridgeColumns, bridgesOf, type Database, NOW, rowColumns, withoutParameters } from "./client";
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
        .select(bridgeColumns)
        .from(contactBridges)
        .where(bridgesOf(scope(target)))
        .orderBy(contactBridges.id),
    ]);
    return { rows, bridges };
  } catch (err) {
    throw withoutParameters(err);
  }
}

// The stamp is a digest, so that the guard's statement and parameter stay small for any
// scope (a legacy cluster may hold tens of thousands of rows). Two hashes of each row's
// state modulo a 31-bit prime, summed: order does not matter, and every product stays below
// 2^53, so SQLite's integers and JavaScript's numbers compute the same values. A concurrent
// change that left both sums, the counts and the bridges' sum as they were would have to hit
// odds of about 2^-62.
const PRIME = 2_147_483_647;
const MIX = [
  [1_000_003, 999_983],
  [1_048_573, 524_287],
] as const;
const BRIDGE_MIX = 1_046_527;

/** The state of a row the plan relies on: its link, and which of its values and its deletion are null. */
const rowFlags = (row: StoredContact) =>
  (row.linkPrecedence === "primary" ? 8 : 0) +
  (row.email === null ? 4 : 0) +
  (row.phoneNumber === null ? 2 : 0) +
  (row.deletedAt === null ? 1 : 0);

const rowHash = (row: StoredContact, [a, b]: readonly [number, number]) =>
  ((((row.id % PRIME) * a + ((row.linkedId ?? 0) % PRIME)) % PRIME) * b + rowFlags(row)) % PRIME;

/**
 * Everything an erasure plan relies on, computed from what was read: each row's links, which
 * of its values and whether it is soft-deleted, and the bridges. Values never change but to
 * null, and a new row holding an erased value joins the scope, so this is the whole state.
 * A digest of bounded size (see PRIME), whatever the size of the scope.
 */
export function erasureStamp(rows: readonly StoredContact[], bridges: readonly Bridge[]): string {
  const sums = MIX.map((mix) => rows.reduce((sum, row) => sum + rowHash(row, mix), 0));
  const bridgeSum = bridges.reduce((sum, bridge) => sum + (((bridge.id % PRIME) * BRIDGE_MIX) % PRIME), 0);
  return `${rows.length}:${sums.join(":")}|${bridges.length}:${bridgeSum}`;
}

function erasureStampSql(target: ErasureTarget): SQL {
  // Integer literals, not parameters: a bound number may reach SQLite as a REAL, and the
  // sums must stay integers to read as erasureStamp writes them.
  const int = (value: number) => sql.raw(String(Math.trunc(value)));
  const flags = sql`(CASE WHEN linkPrecedence = 'primary' THEN 8 ELSE 0 END + 4 * (email IS NULL)
                     + 2 * (phoneNumber IS NULL) + (deletedAt IS NULL))`;
  const hash = ([a, b]: readonly [number, number]) =>
    sql`(((((id % ${int(PRIME)}) * ${int(a)} + (coalesce(linkedId, 0) % ${int(PRIME)})) % ${int(PRIME)}) * ${int(b)} + ${flags}) % ${int(PRIME)})`;
  const [first, second] = MIX;
  return sql`
    SELECT (SELECT count(*) || ':' || coalesce(sum(${hash(first)}), 0) || ':' || coalesce(sum(${hash(second)}), 0)
              FROM contacts WHERE id IN (${scope(target)}))
           || '|' || (SELECT count(*) || ':' || coalesce(sum(((id % ${int(PRIME)}) * ${int(BRIDGE_MIX)}) % ${int(PRIME)}), 0)
                        FROM contact_bridges WHERE ${bridgesOf(scope(target))})`;
}

/** `IN` over a JSON array of ids: one bound parameter for any number (D1 caps a statement at 100). */
const inIds = (ids: readonly number[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

// Each statement of an erasure binds at most this many ids (about 60 KB of JSON), or JSON
// parameters of at most MAX_JSON_CHARS, well inside D1's limits on a statement and on a value
// (2 MB), however large the cluster: a large erasure is more statements, never larger ones.
const MAX_IDS = 5_000;
const MAX_JSON_CHARS = 100_000;

/** `items` in consecutive slices of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const slices: T[][] = [];
  for (let i = 0; i < items.length; i += size) slices.push(items.slice(i, i + size));
  return slices;
}

/** `items` as JSON arrays of at most MAX_JSON_CHARS each (an item longer than that goes alone). */
function jsonChunks(items: readonly unknown[]): string[] {
  const arrays: string[] = [];
  let current: string[] = [];
  let length = 0;
  for (const item of items) {
    const text = JSON.stringify(item);
    if (current.length > 0 && length + text.length > MAX_JSON_CHARS) {
      arrays.push(`[${current.join(",")}]`);
      current = [];
      length = 0;
    }
    current.push(text);
    length += text.length + 1;
  }
  if (current.length > 0) arrays.push(`[${current.join(",")}]`);
  return arrays;
}

/** One statement per slice of `ids` (none for no id). */
function perChunk(ids: readonly number[], statement: (slice: SQL) => BatchItem<"sqlite">): BatchItem<"sqlite">[] {
  return chunks(ids, MAX_IDS).map((slice) => statement(inIds(slice)));
}

/** The relinks by the link they set: one set-based UPDATE per target and slice, linear in the rows. */
function relinkStatements(db: Database, relink: ErasurePlan["relink"]): BatchItem<"sqlite">[] {
  const byLink = new Map<string, { linkedId: number | null; linkPrecedence: "primary" | "secondary"; ids: number[] }>();
  for (const { id, linkedId, linkPrecedence } of relink) {
    const key = `${linkedId}:${linkPrecedence}`;
    const group = byLink.get(key);
    if (group) group.ids.push(id);
    else byLink.set(key, { linkedId, linkPrecedence, ids: [id] });
  }
  return [...byLink.values()].flatMap(({ linkedId, linkPrecedence, ids }) =>
    perChunk(ids, (slice) =>
      db.update(contacts).set({ linkedId, linkPrecedence, updatedAt: NOW }).where(sql`${contacts.id} IN ${slice}`),
    ),
  );
}

/**
 * Commits an erasure plan (or an unmerge's) as one D1 batch, one transaction: the guard
 * (erasureStamp), re-linking, erased values, bridges, deleted contacts and their separations,
 * the separation an unmerge records, then its events and their index. Order matters for the
 * foreign keys: nothing points at a contact when it is deleted. Each statement binds a bounded
 * slice of the plan (MAX_IDS, MAX_JSON_CHARS); the batch grows with the plan.
 * @throws ClusterChangedError when the guard aborts the batch.
 */
export async function commitErasure(
  db: Database,
  target: ErasureTarget,
  stamp: string,
  plan: ErasurePlan,
  requestId: string,
): Promise<void> {
  const writes: BatchItem<"sqlite">[] = [...relinkStatements(db, plan.relink)];
  writes.push(
    ...perChunk(plan.clearEmail, (slice) =>
      db.update(contacts).set({ email: null, updatedAt: NOW }).where(sql`${contacts.id} IN ${slice}`),
    ),
    ...perChunk(plan.clearPhone, (slice) =>
      db.update(contacts).set({ phoneNumber: null, updatedAt: NOW }).where(sql`${contacts.id} IN ${slice}`),
    ),
    ...perChunk(plan.removedBridges, (slice) => db.delete(contactBridges).where(sql`${contactBridges.id} IN ${slice}`)),
    ...jsonChunks(plan.addedBridges).map((added) =>
      db.insert(contactBridges).select(sql`
        SELECT NULL, 'legacy', json_extract(value, '$.emailContactId'), json_extract(value, '$.phoneContactId'), ${NOW}, NULL
          FROM json_each(${added}) ORDER BY key`),
    ),
    // A deleted contact's separations go with it (the contract: deleting A or B lifts them).
    ...perChunk(plan.deleted, (gone) =>
      db
        .delete(contactSeparations)
        .where(sql`${contactSeparations.lowContactId} IN ${gone} OR ${contactSeparations.highContactId} IN ${gone}`),
    ),
    // Deleted in slices, a deleted contact may still be linked to by one of a later slice:
    // the links among them go first, so that no slice breaks the foreign key.
    ...perChunk(plan.deleted, (gone) =>
      db
        .update(contacts)
        .set({ linkedId: null, linkPrecedence: "primary" })
        .where(sql`${contacts.id} IN ${gone} AND ${contacts.linkedId} IS NOT NULL`),
    ),
    ...perChunk(plan.deleted, (gone) => db.delete(contacts).where(sql`${contacts.id} IN ${gone}`)),
  );
  if (plan.separate) {
    const [lowContactId, highContactId] = plan.separate;
    writes.push(db.insert(contactSeparations).values({ lowContactId, highContactId, requestId }).onConflictDoNothing());
  }
  if (plan.events.length > 0) {
    // Every column, in table order (drizzle's INSERT ... SELECT lists them all).
    for (const events of jsonChunks(plan.events)) {
      writes.push(
        db.insert(contactEvents).select(sql`
        SELECT NULL, ${NOW}, json_extract(value, '$.kind'), json_extract(value, '$.primaryContactId'),
               json_extract(value, '$.contactIds'), json_extract(value, '$.previousPrimaryContactId'), ${requestId},
               json_extract(value, '$.bridgeId')
          FROM json_each(${events}) ORDER BY key`),
      );
    }
    writes.push(indexNewEvents(db));
  }
  try {
    await db.batch([guardStatement(db, erasureStampSql(target), stamp), ...writes]);
  } catch (err) {
    if (isGuardAbort(err)) throw new ClusterChangedError();
    throw withoutParameters(err);
  }
}

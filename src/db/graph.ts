import { type SQL, sql } from "drizzle-orm";
import type { Separation } from "../contract/graph";
import type { ContactRow } from "../domain/contact";
import type { StoredBridge } from "../domain/graph";
import { type ClusterLimits, maxContacts } from "../domain/limits";
import { bridgeColumns, bridgesOf, type Database, rowColumns, withoutParameters } from "./client";
import { windowSql } from "./cluster-sql";
import { contactBridges, contactSeparations, contacts } from "./schema";

// The reads of merge repair (graph, explain, separations): each one D1 round trip, bounded by
// the cluster limits as every read is, whatever the cluster or the tables hold.

/**
 * The ids of the live cluster of contact `id`: its primary and its oldest secondaries, up to
 * just past `maxContacts` (as readClusterOfContact reads it), so a cluster over the limits
 * shows as such and no read grows with it.
 */
function clusterIds(id: number, limits: ClusterLimits): SQL {
  return sql`
    WITH roots AS (SELECT coalesce(linkedId, id) AS low, coalesce(linkedId, id) AS high
                     FROM contacts WHERE id = ${id} AND deletedAt IS NULL)
    SELECT low FROM roots
    UNION ALL
    ${windowSql(sql.raw("id"), limits)}`;
}

/** At most this many bridges or separations per read: a few per contact of a full window. */
const rowsCap = (limits: ClusterLimits) => 4 * (maxContacts(limits) + 2);

function clusterRows(db: Database, ids: SQL) {
  return db
    .select(rowColumns)
    .from(contacts)
    .where(sql`${contacts.deletedAt} IS NULL AND ${contacts.id} IN (${ids})`)
    .orderBy(contacts.createdAt, contacts.id);
}

function clusterBridges(db: Database, ids: SQL, limits: ClusterLimits) {
  return db
    .select(bridgeColumns)
    .from(contactBridges)
    .where(bridgesOf(ids))
    .orderBy(contactBridges.id)
    .limit(rowsCap(limits));
}

/** The cluster roots of the live contacts among `ids`. */
function rootsOf(db: Database, ids: number[]) {
  return db
    .select({ id: contacts.id, root: sql<number>`coalesce(${contacts.linkedId}, ${contacts.id})` })
    .from(contacts)
    .where(
      sql`${contacts.id} IN (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )}) AND ${contacts.deletedAt} IS NULL`,
    );
}

/** A cluster as the graph reads it: its rows (oldest first; empty when `id` is unknown) and bridges. */
export type ClusterGraphRead = { rows: ContactRow[]; bridges: StoredBridge[] };

/** Reads the cluster of contact `id` and its bridges, in one round trip. */
export async function readClusterGraph(db: Database, id: number, limits: ClusterLimits): Promise<ClusterGraphRead> {
  const ids = clusterIds(id, limits);
  try {
    const [rows, bridges] = await db.batch([clusterRows(db, ids), clusterBridges(db, ids, limits)]);
    return { rows, bridges };
  } catch (err) {
    throw withoutParameters(err);
  }
}

/**
 * Reads the cluster of contact `id`, its bridges, and the cluster roots of `id` and `to`
 * (null for one that is not a live contact), in one round trip: what `explain` needs.
 */
export async function readClusterPair(
  db: Database,
  id: number,
  to: number,
  limits: ClusterLimits,
): Promise<ClusterGraphRead & { roots: { id: number | null; to: number | null } }> {
  const ids = clusterIds(id, limits);
  try {
    const [rows, bridges, roots] = await db.batch([
      clusterRows(db, ids),
      clusterBridges(db, ids, limits),
      rootsOf(db, [id, to]),
    ]);
    const rootOf = (contact: number) => roots.find((row) => row.id === contact)?.root ?? null;
    return { rows, bridges, roots: { id: rootOf(id), to: rootOf(to) } };
  } catch (err) {
    throw withoutParameters(err);
  }
}

/**
 * Reads the standing separations touching the cluster of contact `id` (by id), in one round
 * trip; null when `id` is not a live contact.
 */
export async function readClusterSeparations(
  db: Database,
  id: number,
  limits: ClusterLimits,
): Promise<Separation[] | null> {
  const ids = clusterIds(id, limits);
  try {
    const [self, rows] = await db.batch([
      rootsOf(db, [id]),
      db
        .select()
        .from(contactSeparations)
        .where(sql`${contactSeparations.lowContactId} IN (${ids}) OR ${contactSeparations.highContactId} IN (${ids})`)
        .orderBy(contactSeparations.id)
        .limit(rowsCap(limits)),
    ]);
    if (self.length === 0) return null;
    return rows.map(asSeparation);
  } catch (err) {
    throw withoutParameters(err);
  }
}

/** Deletes the separation `id`, in one statement; returns it as it stood, or null when there was none. */
export async function deleteSeparation(db: Database, id: number): Promise<Separation | null> {
  try {
    const [row] = await db.delete(contactSeparations).where(sql`${contactSeparations.id} = ${id}`).returning();
    return row ? asSeparation(row) : null;
  } catch (err) {
    throw withoutParameters(err);
  }
}

function asSeparation(row: typeof contactSeparations.$inferSelect): Separation {
  return { id: row.id, contactIds: [row.lowContactId, row.highContactId], at: row.createdAt, requestId: row.requestId };
}

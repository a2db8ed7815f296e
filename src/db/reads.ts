import { and, eq, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { EventRow } from "../contract/events";
import type { ContactRow, Identifiers } from "../domain/contact";
import type { ClusterLimits } from "../domain/limits";
import type { SeparatedPair, Touched } from "../domain/reconcile";
import { type Database, live, withoutParameters } from "./client";
import {
  limitsKey,
  ROW_COLUMNS,
  selectRows,
  touchedClusters,
  touchedClustersAndSeparations,
  valuesOf,
  windowSql,
} from "./cluster-sql";
import { contacts } from "./schema";
import { bound, prebuilt } from "./statement-cache";

const dialect = new SQLiteAsyncDialect();

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
 * Reads what a write plans on (readTouchedClusters), and the standing separations between
 * the touched clusters when there are two of them: still one statement, one round trip.
 */
export async function readTouched(db: Database, who: Identifiers, limits: ClusterLimits): Promise<Touched> {
  try {
    const read = prebuilt(`read+separations:${limitsKey(limits)}`, () =>
      dialect.sqlToQuery(touchedClustersAndSeparations(limits)),
    );
    const { results } = await bound(db, read, valuesOf(who)).all<ContactRow & { separations: string | null }>();
    const separations = JSON.parse(results[0]?.separations ?? "[]") as SeparatedPair[];
    return { rows: results.map(({ separations: _, ...row }) => row), separations };
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
 * One page: at most `limit` of those events, the first after event `afterId` (0: from the start).
 */
export async function readHistory(db: Database, id: number, afterId: number, limit: number): Promise<EventRow[]> {
  return db
    .all<EventRow>(
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
    SELECT e.id, e.at, e.kind, e.primaryContactId, e.contactIds, e.previousPrimaryContactId, e.requestId, e.bridgeId
      FROM contact_events e
     WHERE e.id > ${afterId} AND e.id IN (
       SELECT named.eventId FROM reach
         JOIN contact_event_contacts named ON named.contactId = reach.contactId AND named.eventId <= reach.until
     )
     ORDER BY e.id
     LIMIT ${limit}`,
    )
    .catch((err: unknown) => {
      throw withoutParameters(err);
    });
}

/** True when some event names contact `id` (so it has a history, also once erased). */
export async function isNamedByEvent(db: Database, id: number): Promise<boolean> {
  try {
    const found = await db.all<{ one: number }>(
      sql`SELECT 1 AS one FROM contact_event_contacts WHERE contactId = ${id} LIMIT 1`,
    );
    return found.length > 0;
  } catch (err) {
    throw withoutParameters(err);
  }
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

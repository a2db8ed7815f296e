import { sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Database } from "./client";

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

const dialect = new SQLiteAsyncDialect();

/** indexNewEvents as SQL text and parameters, for a prebuilt statement (see statement-cache.ts). */
export function indexNewEventsQuery(): { sql: string; params: unknown[] } {
  return dialect.sqlToQuery(indexNewEventsSql);
}

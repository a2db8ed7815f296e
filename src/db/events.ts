import { asc, count, gt } from "drizzle-orm";
import type { EventRow } from "../contract/events";
import { type Database, withoutParameters } from "./client";
import { contactEvents } from "./schema";

/** The columns of an event row, in the order the API serialises them. */
const eventColumns = {
  id: contactEvents.id,
  at: contactEvents.at,
  kind: contactEvents.kind,
  primaryContactId: contactEvents.primaryContactId,
  contactIds: contactEvents.contactIds,
  previousPrimaryContactId: contactEvents.previousPrimaryContactId,
  requestId: contactEvents.requestId,
  bridgeId: contactEvents.bridgeId,
};

/**
 * At most `limit` events committed after event `afterId` (0: from the first), oldest first.
 * One statement on the rowid (`id` is the INTEGER PRIMARY KEY): a seek to `afterId` then a
 * scan of `limit` rows, so a page costs the same wherever it starts in the table. Ids are
 * AUTOINCREMENT and D1 has one writer, so id order is commit order.
 */
export async function readEventsAfter(db: Database, afterId: number, limit: number): Promise<EventRow[]> {
  try {
    return await db
      .select(eventColumns)
      .from(contactEvents)
      .where(gt(contactEvents.id, afterId))
      .orderBy(asc(contactEvents.id))
      .limit(limit);
  } catch (err) {
    throw withoutParameters(err);
  }
}

/**
 * How many events were committed after event `afterId`: what a webhook receiver has yet to
 * acknowledge. One count over the rowid range, so it costs the backlog, not the table.
 */
export async function countEventsAfter(db: Database, afterId: number): Promise<number> {
  try {
    const [row] = await db.select({ count: count() }).from(contactEvents).where(gt(contactEvents.id, afterId));
    return row?.count ?? 0;
  } catch (err) {
    throw withoutParameters(err);
  }
}

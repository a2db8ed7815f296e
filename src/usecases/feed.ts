import { encodeCursor } from "../contract/cursor";
import { serializeEvent } from "../contract/events";
import type { FeedPage } from "../contract/feed";
import { readEventsAfter } from "../db/events";
import { readOnly, type UseCaseResult } from "./result";

/**
 * `GET /events`: at most `limit` events committed after event `afterId`, oldest first, and
 * the cursor to ask with next. One indexed read, on a replica at least as new as `bookmark`.
 * A replica behind the primary holds a prefix of the events (ids are given in commit order
 * by D1's one writer), so it can only end a page early, never skip an event (docs/feed.md).
 */
export function readFeed(
  env: Env,
  afterId: number,
  limit: number,
  bookmark?: string,
): Promise<UseCaseResult<FeedPage>> {
  return readOnly(env, bookmark, async (db) => {
    const rows = await readEventsAfter(db, afterId, limit);
    const last = rows.at(-1);
    return { answer: { events: rows.map(serializeEvent), next: encodeCursor(last?.id ?? afterId) } };
  });
}

import { expect } from "vitest";
import type { ContactEvent } from "../src/contract/events";
import type { FeedPage } from "../src/contract/feed";
import { call } from "./helpers";
import { FEED_TOKEN } from "./tokens";

/** A consumer's copy of who is who: contact id -> its primary's id. */
export type Mirror = Map<number, number>;

/**
 * Applies one event as docs/feed.md tells a consumer to: set each listed contact's primary;
 * for `merged`, move every contact of an absorbed primary (and the primary itself); for
 * `erased`, drop the listed contacts.
 */
export function applyEvent(mirror: Mirror, event: ContactEvent): void {
  const { kind, primaryContactId, contactIds } = event;
  if (kind === "erased") {
    for (const id of contactIds) mirror.delete(id);
    return;
  }
  if (kind === "merged") {
    const absorbed = new Set(contactIds);
    for (const [id, primary] of mirror) if (absorbed.has(primary)) mirror.set(id, primaryContactId);
  }
  for (const id of contactIds) mirror.set(id, primaryContactId);
}

/** One page of the feed after `after` (from the first event when absent), read with a feed token. */
export async function feedPage(after: string | undefined, limit: number): Promise<FeedPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(after === undefined ? {} : { after }) });
  const res = await call(`/events?${query}`, { headers: { authorization: `Bearer ${FEED_TOKEN}` } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as FeedPage;
}

/** Every event after `after` to the end of the feed, page by page, and the cursor to go on from. */
export async function readToEnd(
  after: string | undefined,
  limit = 100,
): Promise<{ events: ContactEvent[]; next: string | undefined }> {
  const events: ContactEvent[] = [];
  let next = after;
  for (;;) {
    const page = await feedPage(next, limit);
    events.push(...page.events);
    next = page.next;
    if (page.events.length < limit) return { events, next };
  }
}

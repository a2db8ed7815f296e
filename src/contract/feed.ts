import * as v from "valibot";
import { decodeCursor } from "./cursor";
import { type ContactEvent, EventSchema } from "./events";

/** How many events one page of `GET /events` holds: `limit`'s default and bounds. */
export const FEED_PAGE = { default: 100, min: 1, max: 1000 } as const;

/** `after` of `GET /events`: a cursor the service returned (an event's `id`, or a page's `next`). */
export const CursorSchema = v.pipe(
  v.string(),
  v.description(
    "An event's `id` or a page's `next`, unchanged: the page starts with the first event committed after it. " +
      "Absent: from the first event.",
  ),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const eventId = decodeCursor(dataset.value);
    if (eventId === undefined) {
      addIssue({ message: "after must be a cursor returned by this service" });
      return NEVER;
    }
    return eventId;
  }),
);

/** `limit` of `GET /events`, as query text. */
export const FeedLimitSchema = v.pipe(
  v.string(),
  v.description(`How many events at most, ${FEED_PAGE.min} to ${FEED_PAGE.max}; ${FEED_PAGE.default} when absent.`),
  v.regex(/^[1-9][0-9]{0,3}$/, `limit must be a whole number from ${FEED_PAGE.min} to ${FEED_PAGE.max}`),
  v.transform(Number),
  v.maxValue(FEED_PAGE.max, `limit must be a whole number from ${FEED_PAGE.min} to ${FEED_PAGE.max}`),
);

/** One page of the feed. */
export type FeedPage = { events: ContactEvent[]; next: string };

/** `200` of `GET /events`. */
export const FeedPageSchema = v.pipe(
  v.strictObject({
    events: v.pipe(v.array(EventSchema), v.description("Oldest first, in commit order.")),
    next: v.pipe(
      v.string(),
      v.description(
        "The `after` of the next page: the last event's `id`, or the request's `after` when the page is empty. " +
          "Always asking with it, a consumer never misses and never repeats an event.",
      ),
    ),
  }),
  v.description("The events committed after `after`, at most `limit`; ids only, never an email or a phone."),
) satisfies v.GenericSchema<FeedPage>;

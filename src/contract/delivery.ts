import * as v from "valibot";
import { EventSchema } from "./events";

/** What `GET /events/delivery` answers: where the push of the change feed stands. */
export type DeliveryStatus = {
  state: "off" | "misconfigured" | "idle" | "delivering" | "retrying";
  /** The receiver's origin (scheme, host, port), never its path or query. */
  origin: string | null;
  /** The cursor of the last acknowledged event; null before the first acknowledgement. */
  acknowledged: string | null;
  acknowledgedAt: string | null;
  /** Events committed after the acknowledged one: those still to deliver. */
  pending: number;
  lastError: { at: string; message: string } | null;
  /** When the next attempt is due; null when nothing is to be delivered. */
  nextAttemptAt: string | null;
};

const time = (description: string) => v.nullable(v.pipe(v.string(), v.description(description)));

/** `200` of `GET /events/delivery` (admin). */
export const DeliveryStatusSchema = v.pipe(
  v.strictObject({
    state: v.pipe(
      v.picklist(["off", "misconfigured", "idle", "delivering", "retrying"]),
      v.description(
        "`off`: no `WEBHOOK_URL`; `misconfigured`: `WEBHOOK_URL` or `WEBHOOK_SECRET` is malformed, nothing is " +
          "sent (`lastError` says why); `idle`: every event is acknowledged; `delivering`: events are pending and " +
          "the last attempt succeeded; `retrying`: the pending delivery failed and waits for `nextAttemptAt`.",
      ),
    ),
    origin: v.pipe(
      v.nullable(v.string()),
      v.description("The receiver's origin (scheme, host and port of `WEBHOOK_URL`); null when off or misconfigured."),
    ),
    acknowledged: v.pipe(
      v.nullable(v.string()),
      v.description("The feed cursor of the last event the receiver acknowledged; null before the first."),
    ),
    acknowledgedAt: time("When the last acknowledgement came (ISO 8601, UTC)."),
    pending: v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description("Events committed after the acknowledged one, still to be delivered."),
    ),
    lastError: v.pipe(
      v.nullable(
        v.strictObject({
          at: v.pipe(v.string(), v.description("When it happened (ISO 8601, UTC).")),
          message: v.pipe(
            v.string(),
            v.description("What failed: the receiver's status, a timeout, the configuration."),
          ),
        }),
      ),
      v.description("The latest failed attempt or configuration problem; kept after later successes."),
    ),
    nextAttemptAt: time("When the next attempt is due (ISO 8601, UTC); null when nothing is pending."),
  }),
  v.description("Where the push of the change feed to `WEBHOOK_URL` stands."),
) satisfies v.GenericSchema<DeliveryStatus>;

/** At most this many events per webhook delivery. */
export const MAX_DELIVERY_EVENTS = 100;

/** The body of a webhook delivery: the feed's events, in feed order. */
export const WebhookPayloadSchema = v.pipe(
  v.strictObject({
    events: v.pipe(
      v.array(EventSchema),
      v.minLength(1),
      v.maxLength(MAX_DELIVERY_EVENTS),
      v.description(
        "The next events after the last acknowledged one, oldest first, as `GET /events` answers them. A retry " +
          "carries the same events under the same `webhook-id`.",
      ),
    ),
  }),
  v.description("One delivery of the change feed to `WEBHOOK_URL`."),
);

import * as v from "valibot";
import { encodeCursor } from "./cursor";

/**
 * The one event schema of the API: what history (`GET /contacts/{id}/history`), the feed
 * (`GET /events`) and the webhooks answer, each event serialised from its `contact_events`
 * row by `serializeEvent`. Ids only, never an email or a phone.
 */

/** The kinds of change, as stored in `contact_events.kind`. */
export const EVENT_KINDS = ["created", "linked", "merged", "split", "unmerged", "erased"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** A `contact_events` row as stored: `contactIds` is the JSON text of an ascending id array. */
export type EventRow = {
  id: number;
  at: string;
  kind: EventKind;
  primaryContactId: number;
  contactIds: string;
  previousPrimaryContactId: number | null;
  requestId: string;
  bridgeId: number | null;
};

/** What every event carries. `id` is its feed cursor (src/contract/cursor.ts). */
type EventBase = { id: string; at: string; primaryContactId: number; contactIds: number[]; requestId: string };

/** A new cluster: `contactIds` is the new contact, its own primary. */
export type CreatedEvent = EventBase & { kind: "created" };
/** A secondary stored in the cluster of `primaryContactId`: `contactIds` is the new contact. */
export type LinkedEvent = EventBase & { kind: "linked" };
/**
 * Clusters folded under `primaryContactId`: `contactIds` are the primaries it absorbed, and
 * every contact of theirs follows them. `bridgeId`: the bridge written by the same commit
 * (null for a merge recorded before bridges were named on events, or one that stored a row).
 */
export type MergedEvent = EventBase & { kind: "merged"; bridgeId: number | null };
/** One cluster re-formed by an erasure: `contactIds` is every contact of it, under `primaryContactId`. */
export type SplitEvent = EventBase & { kind: "split"; previousPrimaryContactId: number };
/** Like `split`, after an unmerge removed bridge `bridgeId`. */
export type UnmergedEvent = EventBase & { kind: "unmerged"; bridgeId: number | null };
/** Contacts deleted (`contactIds`, possibly none when only values were erased) from the cluster of a former primary. */
export type ErasedEvent = EventBase & { kind: "erased"; previousPrimaryContactId: number };

/** One event, as every answer serialises it. */
export type ContactEvent = CreatedEvent | LinkedEvent | MergedEvent | SplitEvent | UnmergedEvent | ErasedEvent;

/**
 * The event of a stored row, with the fields of its kind in the API's order. An `erased`
 * row written before erasures named their former primary says it in `primaryContactId`.
 */
export function serializeEvent(row: EventRow): ContactEvent {
  const common = <TKind extends EventKind>(kind: TKind) => ({
    id: encodeCursor(row.id),
    at: row.at,
    kind,
    primaryContactId: row.primaryContactId,
    contactIds: JSON.parse(row.contactIds) as number[],
    requestId: row.requestId,
  });
  const previousPrimaryContactId = row.previousPrimaryContactId ?? row.primaryContactId;
  switch (row.kind) {
    case "created":
    case "linked":
      return common(row.kind);
    case "merged":
    case "unmerged":
      return { ...common(row.kind), bridgeId: row.bridgeId };
    case "split":
    case "erased":
      return { ...common(row.kind), previousPrimaryContactId };
  }
}

// The events in valibot, for the OpenAPI document (one schema per kind, discriminated by
// `kind`) and for the contract tests, which hold real answers to them. Strict objects: a field
// the Worker sends without the document saying so fails those tests.

const ContactId = v.pipe(v.number(), v.integer(), v.minValue(1));

const baseEntries = {
  id: v.pipe(
    v.string(),
    v.description("The event's feed cursor: opaque; pass it as `after` to read the events committed after it."),
  ),
  at: v.pipe(v.string(), v.description("When the change was committed (ISO 8601, UTC).")),
  primaryContactId: ContactId,
  contactIds: v.array(ContactId),
  requestId: v.pipe(v.string(), v.description("The id of the request that made the change.")),
};

function eventSchema<TKind extends EventKind, TExtra extends v.ObjectEntries>(
  kind: TKind,
  description: string,
  extra: TExtra,
) {
  const { id, at, primaryContactId, contactIds, requestId } = baseEntries;
  return v.pipe(
    v.strictObject({ id, at, kind: v.literal(kind), primaryContactId, contactIds, requestId, ...extra }),
    v.description(description),
  );
}

const bridgeId = v.pipe(
  v.nullable(ContactId),
  v.description("The bridge (`contact_bridges` id); null on a merge recorded before bridges were named on events."),
);
const previousPrimaryContactId = v.pipe(ContactId, v.description("The primary of the cluster before the change."));

/** The component name the OpenAPI document gives each kind's schema (its discriminator mapping). */
export const EVENT_SCHEMA_NAMES = {
  created: "CreatedEvent",
  linked: "LinkedEvent",
  merged: "MergedEvent",
  split: "SplitEvent",
  unmerged: "UnmergedEvent",
  erased: "ErasedEvent",
} as const satisfies Record<EventKind, string>;

/** Each kind's schema, by the component name the OpenAPI document gives it. */
export const EventSchemas = {
  CreatedEvent: eventSchema(
    "created",
    "A new cluster: `primaryContactId` and `contactIds` are the new contact.",
    {},
  ) satisfies v.GenericSchema<CreatedEvent>,
  LinkedEvent: eventSchema(
    "linked",
    "A secondary stored: `contactIds` is the new contact, `primaryContactId` its cluster's primary.",
    {},
  ) satisfies v.GenericSchema<LinkedEvent>,
  MergedEvent: eventSchema(
    "merged",
    "Clusters folded into the oldest: `contactIds` are the primaries absorbed; every contact that had one of " +
      "them as primary now has `primaryContactId`.",
    { bridgeId },
  ) satisfies v.GenericSchema<MergedEvent>,
  SplitEvent: eventSchema(
    "split",
    "One cluster left by an erasure (one event per resulting cluster): `contactIds` is every contact of it, " +
      "`primaryContactId` its primary.",
    { previousPrimaryContactId },
  ) satisfies v.GenericSchema<SplitEvent>,
  UnmergedEvent: eventSchema(
    "unmerged",
    "Like `split`, after an unmerge removed bridge `bridgeId`: `contactIds` is every contact of one resulting cluster.",
    { bridgeId },
  ) satisfies v.GenericSchema<UnmergedEvent>,
  ErasedEvent: eventSchema(
    "erased",
    "Contacts deleted (`contactIds`; none when only values were erased) from the cluster whose primary was " +
      "`previousPrimaryContactId`.",
    { previousPrimaryContactId },
  ) satisfies v.GenericSchema<ErasedEvent>,
};

/** Any event: one of the kinds above, told apart by `kind`. */
export const EventSchema = v.variant("kind", Object.values(EventSchemas));

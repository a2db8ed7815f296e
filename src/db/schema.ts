import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/**
 * One row per identifier pair a caller sent us (the seed's `contacts` table).
 * Timestamps are ISO-8601 UTC strings with milliseconds: they sort as text,
 * so "oldest first" is `ORDER BY createdAt, id`.
 */
export const contacts = sqliteTable(
  "contacts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    phoneNumber: text("phoneNumber"),
    email: text("email"),
    linkedId: integer("linkedId").references((): AnySQLiteColumn => contacts.id),
    linkPrecedence: text("linkPrecedence", { enum: ["primary", "secondary"] }).notNull(),
    createdAt: text("createdAt").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    updatedAt: text("updatedAt").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    deletedAt: text("deletedAt"),
  },
  (table) => [
    // A primary links to nothing; a secondary always names its primary.
    check(
      "contacts_link_shape",
      sql`(${table.linkPrecedence} = 'primary' AND ${table.linkedId} IS NULL) OR (${table.linkPrecedence} = 'secondary' AND ${table.linkedId} IS NOT NULL)`,
    ),
    // Every lookup starts from an email or a phone, then walks to the cluster by linkedId.
    index("contacts_email_idx").on(table.email),
    index("contacts_phone_number_idx").on(table.phoneNumber),
    index("contacts_linked_id_idx").on(table.linkedId),
  ],
);

export type Contact = typeof contacts.$inferSelect;
/**
 * Links that no shared value shows. A request whose email and phone were both known, in two
 * clusters, merges them without storing a row; its bridge records the contact its email
 * matched and the contact its phone matched, so that the pair stays linked when the clusters
 * are re-formed after an erasure. Erasing that email (or phone) removes the bridge.
 *
 * `legacy` bridges stand for merges made before bridges were recorded (migration
 * 0002_legacy_bridges): they tie a contact to the primary of its cluster as it was then,
 * rely on no value, and go only with a deleted contact.
 */
export const contactBridges = sqliteTable(
  "contact_bridges",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: ["request", "legacy"] })
      .notNull()
      .default("request"),
    emailContactId: integer("emailContactId")
      .notNull()
      .references(() => contacts.id),
    phoneContactId: integer("phoneContactId")
      .notNull()
      .references(() => contacts.id),
    createdAt: text("createdAt").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    /** The request that merged through this bridge (server-generated); null for `legacy` bridges. */
    requestId: text("requestId"),
  },
  (table) => [
    index("contact_bridges_email_contact_idx").on(table.emailContactId),
    index("contact_bridges_phone_contact_idx").on(table.phoneContactId),
  ],
);

/**
 * What happened to clusters, in commit order: written in the same batch as the change.
 * Ids, never an email or a phone, so it survives erasure. `previousPrimaryContactId` is the
 * primary of the cluster a `split` (or `erased`) event re-formed: how history follows a
 * former cluster into the clusters it became.
 */
export const contactEvents = sqliteTable("contact_events", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: text("at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
  kind: text("kind", { enum: ["created", "linked", "merged", "split", "unmerged", "erased"] }).notNull(),
  primaryContactId: integer("primaryContactId").notNull(),
  /** JSON array of the contact ids involved, ascending. */
  contactIds: text("contactIds").notNull(),
  previousPrimaryContactId: integer("previousPrimaryContactId"),
  requestId: text("requestId").notNull(),
  /** The bridge a `merged` event recorded, or the one an `unmerged` event removed (added last, by 0004). */
  bridgeId: integer("bridgeId"),
});

/**
 * Which contacts each event involves (its ids, its primary, its previous primary): the index
 * that history walks from a contact id to its events. No foreign key to `contacts`: events
 * outlive the contacts they name.
 */
export const contactEventContacts = sqliteTable(
  "contact_event_contacts",
  {
    contactId: integer("contactId").notNull(),
    eventId: integer("eventId")
      .notNull()
      .references(() => contactEvents.id),
  },
  (table) => [
    primaryKey({ columns: [table.contactId, table.eventId] }),
    // Each write batch indexes the events newer than the newest indexed one.
    index("contact_event_contacts_event_idx").on(table.eventId),
  ],
);

/**
 * Do-not-link decisions: while a row stands, no write merges a cluster holding one of its
 * contacts with a cluster holding the other (contract invariant 6). Written by an unmerge;
 * lifted by `DELETE /separations/{id}`, or with either contact when it is deleted.
 * `lowContactId < highContactId`, so a pair is stored one way only.
 */
export const contactSeparations = sqliteTable(
  "contact_separations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    lowContactId: integer("lowContactId").notNull(),
    highContactId: integer("highContactId").notNull(),
    createdAt: text("createdAt").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`),
    requestId: text("requestId").notNull(),
  },
  (table) => [
    check("contact_separations_ordered", sql`${table.lowContactId} < ${table.highContactId}`),
    uniqueIndex("contact_separations_pair_idx").on(table.lowContactId, table.highContactId),
    index("contact_separations_high_idx").on(table.highContactId),
  ],
);

/**
 * The ledger of `npm run import` into an empty database (tools/import): one row per
 * import, keyed by a digest of the file and the settings it was planned under. The load
 * runs in atomic chunks, each of which advances `chunksDone`, so an interrupted import
 * resumes at the first chunk not written, and a finished one is not written twice.
 */
export const imports = sqliteTable("imports", {
  id: text("id").primaryKey(),
  source: text("source").notNull(),
  records: integer("records").notNull(),
  chunksDone: integer("chunksDone").notNull(),
  chunksTotal: integer("chunksTotal").notNull(),
  /** The import's time: what records without a `createdAt` are stamped with, the same on a resume. */
  startedAt: text("startedAt").notNull(),
  finishedAt: text("finishedAt"),
});

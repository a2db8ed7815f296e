import { sql } from "drizzle-orm";
import { type AnySQLiteColumn, check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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

import { DrizzleQueryError, isNull, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { contacts } from "./schema";

export type Database = DrizzleD1Database & { $client: D1Database };

/** Wraps the D1 binding in drizzle (no relational schema needed: every query is a builder). */
export function database(d1: D1Database): Database {
  return drizzle(d1);
}

export const rowColumns = {
  id: contacts.id,
  email: contacts.email,
  phoneNumber: contacts.phoneNumber,
  linkedId: contacts.linkedId,
  linkPrecedence: contacts.linkPrecedence,
  createdAt: contacts.createdAt,
};

export const NOW = sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
export const live = isNull(contacts.deletedAt);

/**
 * D1's own error in place of drizzle's wrapper, whose message quotes the query's
 * parameters: the caller's email and phone must not reach logs or traces.
 */
export function withoutParameters(err: unknown): unknown {
  return err instanceof DrizzleQueryError && err.cause instanceof Error ? err.cause : err;
}

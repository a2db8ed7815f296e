import { DrizzleQueryError, isNull, type SQL, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { contactBridges, contacts } from "./schema";

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

/** The columns of a bridge as erasure, unmerge and the graph read it (StoredBridge). */
export const bridgeColumns = {
  id: contactBridges.id,
  kind: contactBridges.kind,
  emailContactId: contactBridges.emailContactId,
  phoneContactId: contactBridges.phoneContactId,
  createdAt: contactBridges.createdAt,
  requestId: contactBridges.requestId,
};

/** The bridges with either end among the contact ids `ids` selects. */
export const bridgesOf = (ids: SQL) =>
  sql`${contactBridges.emailContactId} IN (${ids}) OR ${contactBridges.phoneContactId} IN (${ids})`;

export const NOW = sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
export const live = isNull(contacts.deletedAt);

/**
 * D1's own error in place of drizzle's wrapper, whose message quotes the query's
 * parameters: the caller's email and phone must not reach logs or traces.
 */
export function withoutParameters(err: unknown): unknown {
  return err instanceof DrizzleQueryError && err.cause instanceof Error ? err.cause : err;
}

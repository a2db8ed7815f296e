import { type SQL, sql } from "drizzle-orm";
import type { Identifiers } from "../domain/contact";
import { type ClusterLimits, maxContacts } from "../domain/limits";
import type { Database } from "./client";

// The bounded cluster read that the request path's reads, guard and read back share.

/** A limit as SQL text: always a small integer (src/domain/limits.ts), and LIMIT wants an integer, not D1's REAL. */
function integer(n: number): SQL {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return sql.raw(String(n));
}

/**
 * The CTEs every request-path statement starts from: `hit`, the first live contact (lowest
 * id) holding the email and the first holding the phone, each with its cluster's root
 * (0 to 2 rows, two index lookups); `roots`, the lower and higher of those roots.
 * The email and the phone are the placeholders `email` and `phone` (see valuesOf).
 */
export function hitsSql(): SQL {
  const first = (via: "e" | "p", column: "email" | "phoneNumber", value: "email" | "phone") =>
    sql`SELECT ${via} AS via, id, coalesce(linkedId, id) AS root FROM (
          SELECT id, linkedId FROM contacts
           WHERE deletedAt IS NULL AND ${sql.raw(column)} = ${sql.placeholder(value)} ORDER BY id LIMIT 1)`;
  return sql`hit AS (${first("e", "email", "email")} UNION ALL ${first("p", "phoneNumber", "phone")}),
    roots AS (SELECT min(root) AS low, max(root) AS high FROM hit)`;
}

/**
 * The secondaries of the clusters whose roots are in `roots` (the lower root, and the
 * higher one when it differs), each cluster cut at its oldest `maxContacts + 1`
 * secondaries by id: one more than a cluster within the limits can hold, so that a
 * cluster over them shows as such and no read grows with it.
 */
export function windowSql(columns: SQL, limits: ClusterLimits): SQL {
  const cut = integer(maxContacts(limits) + 1);
  return sql`SELECT * FROM (SELECT ${columns} FROM contacts
                             WHERE deletedAt IS NULL AND linkedId = (SELECT low FROM roots)
                             ORDER BY id LIMIT ${cut})
             UNION ALL
             SELECT * FROM (SELECT ${columns} FROM contacts
                             WHERE deletedAt IS NULL AND linkedId = (SELECT high FROM roots)
                               AND (SELECT high <> low FROM roots)
                             ORDER BY id LIMIT ${cut})`;
}

export const ROW_COLUMNS = sql.raw("id, email, phoneNumber, linkedId, linkPrecedence, createdAt");

/** Selects the columns of ContactRow from the rows of a subquery. */
export function selectRows(db: Database, from: SQL) {
  return db
    .select({
      id: sql<number>`id`,
      email: sql<string | null>`email`,
      phoneNumber: sql<string | null>`phoneNumber`,
      linkedId: sql<number | null>`linkedId`,
      linkPrecedence: sql<"primary" | "secondary">`linkPrecedence`,
      createdAt: sql<string>`createdAt`,
    })
    .from(sql`(${from}) AS touched`)
    .orderBy(sql`createdAt`, sql`id`);
}

/**
 * The touched clusters as one indexed statement, bounded by the limits whatever the
 * table holds: the two first holders, their roots, and each root's secondaries up to
 * just past `maxContacts` (at most 2 × (maxContacts + 2) + 2 rows).
 */
export function touchedClusters(db: Database, limits: ClusterLimits) {
  return selectRows(
    db,
    sql`WITH ${hitsSql()}
        SELECT ${ROW_COLUMNS} FROM contacts
         WHERE deletedAt IS NULL AND (id IN (SELECT root FROM hit) OR id IN (SELECT id FROM hit))
        UNION
        ${windowSql(ROW_COLUMNS, limits)}`,
  );
}

export function limitsKey(limits: ClusterLimits): string {
  return `${limits.emails}:${limits.phones}`;
}

/** The placeholders of hitsSql: a missing value matches nothing. */
export function valuesOf(who: Identifiers): { email: string | null; phone: string | null } {
  return { email: who.email ?? null, phone: who.phoneNumber ?? null };
}

/**
 * The CTE `sides`: the id and cluster root of every contact of the touched clusters' windows
 * (hitsSql's roots and their secondaries, as windowSql cuts them), with `extra` columns.
 */
export function sidesSql(limits: ClusterLimits, extra = ""): SQL {
  const columns = sql.raw(`id, coalesce(linkedId, id) AS root${extra}`);
  return sql`sides AS (
        SELECT ${columns} FROM contacts WHERE deletedAt IS NULL AND id IN (SELECT root FROM hit)
        UNION ALL
        ${windowSql(columns, limits)})`;
}

/** At most this many separations between two touched clusters are read: one is enough to refuse their merge. */
const SEPARATIONS_READ = 16;

/**
 * The standing separations between two contacts of `sides` in different clusters (those a
 * merge of the touched clusters would break), one indexed probe per contact, and only when
 * the request touches two clusters.
 */
export function straddlingSql(columns: SQL): SQL {
  return sql`SELECT ${columns} FROM sides a
               JOIN contact_separations s ON s.lowContactId = a.id
               JOIN sides b ON b.id = s.highContactId
              WHERE (SELECT high <> low FROM roots) AND a.root <> b.root`;
}

/**
 * The touched clusters (touchedClusters), each row with `separations`: the JSON array of the
 * separated pairs `[low, high]` between them (straddlingSql, at most SEPARATIONS_READ), the
 * same on every row. One statement: the uncorrelated subquery runs once.
 */
export function touchedClustersAndSeparations(limits: ClusterLimits): SQL {
  const pairs = sql`(SELECT json_group_array(json_array(lowContactId, highContactId)) FROM (
                       ${straddlingSql(sql.raw("s.lowContactId, s.highContactId"))} LIMIT ${integer(SEPARATIONS_READ)}))`;
  return sql`WITH ${hitsSql()}, ${sidesSql(limits)}
    SELECT ${ROW_COLUMNS}, ${pairs} AS separations FROM (
      SELECT ${ROW_COLUMNS} FROM contacts
       WHERE deletedAt IS NULL AND (id IN (SELECT root FROM hit) OR id IN (SELECT id FROM hit))
      UNION
      ${windowSql(ROW_COLUMNS, limits)})
    ORDER BY createdAt, id`;
}

import { fillPlaceholders } from "drizzle-orm";
import type { Database } from "./client";

/** A statement's SQL text and its parameters, some of them placeholders named for the values of a call. */
export type Prebuilt = { sql: string; params: unknown[] };

// Building a statement through drizzle's builders costs more of a write's CPU than running
// it (measured: 15% of the Worker's busy time for a new customer, against 6% for planning
// and answering). The request path builds each statement's text once per shape (and
// cluster limits) per isolate, with placeholders, and binds each call's values to it.
const prebuiltStatements = new Map<string, Prebuilt>();

export function prebuilt(key: string, build: () => Prebuilt): Prebuilt {
  let statement = prebuiltStatements.get(key);
  if (!statement) {
    // Shapes are a handful per limits in force; a change of limits starts over.
    if (prebuiltStatements.size >= 256) prebuiltStatements.clear();
    statement = build();
    prebuiltStatements.set(key, statement);
  }
  return statement;
}

/** The D1 statement of `statement` with `values` bound to its placeholders, on the client under `db`. */
export function bound(db: Database, statement: Prebuilt, values: Record<string, unknown>): D1PreparedStatement {
  return db.$client.prepare(statement.sql).bind(...fillPlaceholders(statement.params, values));
}

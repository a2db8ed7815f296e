/**
 * The columns reconciliation reads: identity, links and age, typed as the `contacts`
 * table of src/db/schema.ts types them (the domain imports nothing from src/db).
 */
export type ContactRow = {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
  linkPrecedence: "primary" | "secondary";
  createdAt: string;
};

/** A request's identifiers after normalisation; at least one is present. */
export type Identifiers = { email?: string; phoneNumber?: string };

// The answers' shapes are the contract's; the domain builds them.
export type { IdentifyResponse } from "../contract/responses";

/** Creation order: `createdAt`, then `id` (timestamps are ISO strings, so they sort as text). */
export function byAge(a: ContactRow, b: ContactRow): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id - b.id;
}

/** The contact that must be a cluster's primary: its oldest. */
export function oldest(rows: readonly ContactRow[]): ContactRow | undefined {
  let winner: ContactRow | undefined;
  for (const row of rows) if (!winner || byAge(row, winner) < 0) winner = row;
  return winner;
}

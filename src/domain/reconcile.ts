import { type ContactRow, type Identifiers, type IdentifyResponse, byAge, oldest } from "./contact";

/** What a request did to the data; logged, and used to label benchmark workloads. */
export type Outcome = "created" | "linked" | "merged" | "unchanged";

/** A new contact to insert; `linkedId` is null for a new primary. */
export type PlannedInsert = {
  email: string | null;
  phoneNumber: string | null;
  linkPrecedence: "primary" | "secondary";
  linkedId: number | null;
};

/**
 * The writes that bring the touched clusters in line with CONTRACT.md.
 * `primaryId` is the cluster's oldest contact (null when the request matched nothing).
 */
export type ReconciliationPlan = {
  outcome: Outcome;
  primaryId: number | null;
  /** The primary is stored as a secondary (its own primary was soft-deleted) and must be promoted. */
  promote: boolean;
  /** Contacts that must become secondaries of `primaryId`: demoted primaries and re-pointed secondaries. */
  relink: number[];
  insert: PlannedInsert | null;
};

/** True when the plan changes nothing, so the answer can come straight from the rows read. */
export function isReadOnly(plan: ReconciliationPlan): boolean {
  return plan.outcome === "unchanged";
}

/**
 * Plans the reconciliation of one request against the live rows of every
 * cluster it touches (all rows linked to a contact that shares its email or phone).
 *
 * The oldest of those rows becomes (or stays) the primary; every other row must be
 * its secondary; the request is stored only if it brings an email or phone the
 * clusters do not have yet.
 */
export function planReconciliation(
  rows: readonly ContactRow[],
  request: Identifiers,
): ReconciliationPlan {
  const email = request.email ?? null;
  const phoneNumber = request.phoneNumber ?? null;
  const primary = oldest(rows);
  if (!primary) {
    return {
      outcome: "created",
      primaryId: null,
      promote: false,
      relink: [],
      insert: { email, phoneNumber, linkPrecedence: "primary", linkedId: null },
    };
  }

  const promote = primary.linkPrecedence !== "primary";
  const relink = rows
    .filter((row) => row.id !== primary.id)
    .filter((row) => row.linkPrecedence !== "secondary" || row.linkedId !== primary.id)
    .map((row) => row.id);

  const bringsNewEmail = email !== null && !rows.some((row) => row.email === email);
  const bringsNewPhone = phoneNumber !== null && !rows.some((row) => row.phoneNumber === phoneNumber);
  const insert: PlannedInsert | null =
    bringsNewEmail || bringsNewPhone
      ? { email, phoneNumber, linkPrecedence: "secondary", linkedId: primary.id }
      : null;

  const outcome: Outcome =
    promote || relink.length > 0 ? "merged" : insert ? "linked" : "unchanged";
  return { outcome, primaryId: primary.id, promote, relink, insert };
}

/** The rows as they stand once `plan` is committed, given the row the insert created. */
export function applyPlan(
  rows: readonly ContactRow[],
  plan: ReconciliationPlan,
  inserted: ContactRow | null,
): ContactRow[] {
  const relinked = new Set(plan.relink);
  const after = rows.map((row): ContactRow => {
    if (row.id === plan.primaryId && plan.promote) {
      return { ...row, linkPrecedence: "primary", linkedId: null };
    }
    if (relinked.has(row.id)) {
      return { ...row, linkPrecedence: "secondary", linkedId: plan.primaryId };
    }
    return row;
  });
  if (inserted) after.push(inserted);
  return after;
}

/**
 * The `/identify` answer for one reconciled cluster: the primary's own email and
 * phone first, then the others in creation order, each once; secondaries ascending.
 */
export function buildIdentifyResponse(rows: readonly ContactRow[]): IdentifyResponse {
  const ordered = [...rows].sort(byAge);
  const primary = ordered[0];
  if (!primary) throw new Error("buildIdentifyResponse needs at least one contact");
  const emails = new Set<string>();
  const phoneNumbers = new Set<string>();
  for (const row of ordered) {
    if (row.email !== null) emails.add(row.email);
    if (row.phoneNumber !== null) phoneNumbers.add(row.phoneNumber);
  }
  return {
    primaryContactId: primary.id,
    emails: [...emails],
    phoneNumbers: [...phoneNumbers],
    secondaryContactIds: ordered
      .slice(1)
      .map((row) => row.id)
      .sort((a, b) => a - b),
  };
}

import { byAge, type ContactRow, type Identifiers, type IdentifyResponse, oldest } from "./contact";

/** What a request did to the data; logged, and used to label benchmark workloads. */
export type Outcome = "created" | "linked" | "merged" | "unchanged";

/** A new contact to insert; `linkedId` is null for a new primary. */
type PlannedInsert = {
  email: string | null;
  phoneNumber: string | null;
  linkPrecedence: "primary" | "secondary";
  linkedId: number | null;
};

/**
 * The writes that bring the touched clusters in line with docs/contract.md.
 * `primaryId` is the clusters' oldest contact (null when the request matched nothing).
 */
export type ReconciliationPlan = {
  outcome: Outcome;
  primaryId: number | null;
  /** The primary is stored as a secondary (its own primary was soft-deleted) and must be promoted. */
  promote: boolean;
  /**
   * Roots (primary ids) of the clusters to fold under `primaryId`: each such root and
   * every contact linked to it become secondaries of `primaryId`. Applied as a set at
   * commit time, so contacts added to those clusters meanwhile move along too.
   */
  absorb: number[];
  insert: PlannedInsert | null;
  /**
   * The request merges clusters with an email and a phone that were both known: no row
   * records the link, so a bridge must (the contact each value matched; docs/contract.md).
   */
  bridge: boolean;
};

/** The id of the cluster a row belongs to: its primary's, or its own if it is one. */
export function rootOf(row: ContactRow): number {
  return row.linkedId ?? row.id;
}

/** True when the plan changes nothing, so the answer can come straight from the rows read. */
export function isReadOnly(plan: ReconciliationPlan): boolean {
  return plan.outcome === "unchanged";
}

/**
 * Plans the reconciliation of one request against the live rows of every
 * cluster it touches (all rows linked to a contact that shares its email or phone).
 *
 * The oldest of those rows becomes (or stays) the primary; every other cluster is
 * folded under it; the request is stored only if it brings an email or phone the
 * clusters do not have yet.
 */
export function planReconciliation(rows: readonly ContactRow[], request: Identifiers): ReconciliationPlan {
  const email = request.email ?? null;
  const phoneNumber = request.phoneNumber ?? null;
  const primary = oldest(rows);
  if (!primary) {
    return {
      outcome: "created",
      primaryId: null,
      promote: false,
      absorb: [],
      insert: { email, phoneNumber, linkPrecedence: "primary", linkedId: null },
      bridge: false,
    };
  }

  const promote = primary.linkPrecedence !== "primary";
  const absorb = [...new Set(rows.map(rootOf))].filter((root) => root !== primary.id).sort((a, b) => a - b);

  const bringsNewEmail = email !== null && !rows.some((row) => row.email === email);
  const bringsNewPhone = phoneNumber !== null && !rows.some((row) => row.phoneNumber === phoneNumber);
  const insert: PlannedInsert | null =
    bringsNewEmail || bringsNewPhone ? { email, phoneNumber, linkPrecedence: "secondary", linkedId: primary.id } : null;

  const outcome: Outcome = promote || absorb.length > 0 ? "merged" : insert ? "linked" : "unchanged";
  const bridge = absorb.length > 0 && insert === null && email !== null && phoneNumber !== null;
  return { outcome, primaryId: primary.id, promote, absorb, insert, bridge };
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

/**
 * The touched clusters as they will be once `plan` is committed: the primary promoted,
 * the absorbed clusters re-pointed to it, and the insert added as `inserted` says (an
 * id and a creation time the database has not given yet, younger than every row).
 * Lets an object plan the next queued request before this one is written.
 */
export function applyPlan(
  rows: readonly ContactRow[],
  plan: ReconciliationPlan,
  inserted: Pick<ContactRow, "id" | "createdAt">,
): ContactRow[] {
  const { primaryId } = plan;
  const absorbed = new Set(plan.absorb);
  const after = rows.map((row): ContactRow => {
    if (row.id === primaryId) return plan.promote ? { ...row, linkPrecedence: "primary", linkedId: null } : row;
    if (primaryId !== null && absorbed.has(rootOf(row))) {
      return { ...row, linkPrecedence: "secondary", linkedId: primaryId };
    }
    return row;
  });
  if (plan.insert) after.push({ ...plan.insert, ...inserted });
  return after;
}

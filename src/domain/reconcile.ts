import type { Ignored } from "./blocking";
import { byAge, type ContactRow, type Identifiers, type IdentifyResponse, oldest } from "./contact";
import { type ClusterLimits, maxContacts } from "./limits";

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
  /**
   * The cluster the answer shows when nothing is written: the root of the request's
   * clusters, or of its email's when a merge was refused. Null when the request matched nothing.
   */
  answerRoot: number | null;
  /** Fields left out because the cluster limits forbid storing them, or the merge they ask for. */
  ignored: Ignored[];
  /**
   * What the writes add to the resulting cluster, which the guard rechecks against the
   * limits inside the write transaction; null when they add no identifier and no contact
   * to an existing cluster (nothing matched, or only a promotion).
   */
  growth: Growth | null;
};

/** Two contacts a standing separation keeps apart (contract invariant 6), `[low, high]`. */
export type SeparatedPair = [number, number];

/** What a write plans on: the touched clusters' rows, and the separations between them. */
export type Touched = { rows: ContactRow[]; separations: SeparatedPair[] };

/** True when some pair of `separations` has one contact in the cluster `a` and the other in `b`. */
function separates(rows: readonly ContactRow[], separations: readonly SeparatedPair[], a: number, b: number): boolean {
  if (separations.length === 0) return false;
  const roots = new Map(rows.map((row) => [row.id, rootOf(row)]));
  return separations.some(([low, high]) => {
    const [x, y] = [roots.get(low), roots.get(high)];
    return (x === a && y === b) || (x === b && y === a);
  });
}

/** Distinct identifiers and contacts a plan adds to its cluster (a merge adds none: both are counted). */
export type Growth = { emails: number; phones: number; contacts: number };

/** What planning and answering need to know of one cluster, from its rows read. */
type ClusterSummary = { emails: Set<string>; phones: Set<string>; contacts: number };

function summarise(rows: readonly ContactRow[]): ClusterSummary {
  const summary: ClusterSummary = { emails: new Set(), phones: new Set(), contacts: rows.length };
  for (const row of rows) {
    if (row.email !== null) summary.emails.add(row.email);
    if (row.phoneNumber !== null) summary.phones.add(row.phoneNumber);
  }
  return summary;
}

/**
 * True when a cluster is over a limit. More contacts than `maxContacts(limits)` counts as
 * over too: a cluster grown under the limits never has that many, and the read of a
 * cluster stops just past that many, so its distinct values are not all known.
 */
function overLimits(summary: ClusterSummary, limits: ClusterLimits): boolean {
  return (
    summary.emails.size > limits.emails || summary.phones.size > limits.phones || summary.contacts > maxContacts(limits)
  );
}

/** The rows of the cluster whose root is `root`; every row when `root` is null. */
export function clusterOf(rows: readonly ContactRow[], root: number | null): ContactRow[] {
  return root === null ? [...rows] : rows.filter((row) => rootOf(row) === root);
}

/**
 * The contact that holds `value` in `field` and that the read found first: the lowest
 * id, as the SQL of src/db/cluster-sql.ts picks it. Its root is the cluster of that value.
 */
export function firstHolder(
  rows: readonly ContactRow[],
  field: "email" | "phoneNumber",
  value: string | undefined,
): ContactRow | undefined {
  if (value === undefined) return undefined;
  let first: ContactRow | undefined;
  for (const row of rows) if (row[field] === value && (!first || row.id < first.id)) first = row;
  return first;
}

/** The id of the cluster a row belongs to: its primary's, or its own if it is one. */
export function rootOf(row: ContactRow): number {
  return row.linkedId ?? row.id;
}

/** True when the plan changes nothing, so the answer can come straight from the rows read. */
export function isReadOnly(plan: ReconciliationPlan): boolean {
  return plan.outcome === "unchanged";
}

/**
 * Plans the reconciliation of one request against the rows of the clusters it touches:
 * the cluster of the first contact holding its email and of the first holding its phone
 * (each read up to just past `maxContacts(limits)` contacts).
 *
 * The oldest of those rows becomes (or stays) the primary; the other cluster is folded
 * under it; the request is stored only if it brings an email or phone the clusters do not
 * have yet. The cluster limits hold throughout: a merge that would exceed them does not
 * happen (the email's cluster is answered, the phone ignored), nor one that `separations`
 * (pairs of contacts kept apart, as read with the rows) forbids, a new identifier that would
 * exceed them is ignored, and a cluster already over them is never written to.
 */
export function planReconciliation(
  rows: readonly ContactRow[],
  request: Identifiers,
  limits: ClusterLimits,
  separations: readonly SeparatedPair[] = [],
): ReconciliationPlan {
  const email = request.email ?? null;
  const phoneNumber = request.phoneNumber ?? null;
  const emailHolder = firstHolder(rows, "email", request.email);
  const phoneHolder = firstHolder(rows, "phoneNumber", request.phoneNumber);
  const roots = [...new Set([emailHolder, phoneHolder].flatMap((row) => (row ? [rootOf(row)] : [])))];
  const readOnly = (answerRoot: number | null, ignored: Ignored[]): ReconciliationPlan => ({
    outcome: "unchanged",
    primaryId: null,
    promote: false,
    absorb: [],
    insert: null,
    bridge: false,
    answerRoot,
    ignored,
    growth: null,
  });

  if (roots.length === 0) {
    return {
      outcome: "created",
      primaryId: null,
      promote: false,
      absorb: [],
      insert: { email, phoneNumber, linkPrecedence: "primary", linkedId: null },
      bridge: false,
      answerRoot: null,
      ignored: [],
      growth: null,
    };
  }

  const [first, second] = roots;
  if (first !== undefined && second !== undefined && separates(rows, separations, first, second)) {
    // Answered as a merge over the limits is: the email's cluster, nothing stored.
    return readOnly(emailHolder ? rootOf(emailHolder) : null, [{ field: "phoneNumber", reason: "separated" }]);
  }
  const clusters = roots.map((root) => summarise(clusterOf(rows, root)));
  const frozen = clusters.some((cluster) => overLimits(cluster, limits));
  const mine = rows.filter((row) => roots.includes(rootOf(row)));
  const joined = summarise(mine);
  if (roots.length > 1 && (frozen || overLimits(joined, limits))) {
    // Both identifiers are known (each matched a cluster), so nothing is left to store.
    return readOnly(emailHolder ? rootOf(emailHolder) : null, [{ field: "phoneNumber", reason: "cluster_limit" }]);
  }

  const ignored: Ignored[] = [];
  const roomFor = (values: Set<string>, limit: number) =>
    !frozen && values.size + 1 <= limit && joined.contacts + 1 <= maxContacts(limits);
  let newEmail = email !== null && !emailHolder;
  let newPhone = phoneNumber !== null && !phoneHolder;
  if (newEmail && !roomFor(joined.emails, limits.emails)) {
    newEmail = false;
    ignored.push({ field: "email", reason: "cluster_limit" });
  }
  if (newPhone && !roomFor(joined.phones, limits.phones)) {
    newPhone = false;
    ignored.push({ field: "phoneNumber", reason: "cluster_limit" });
  }
  // An over-limit cluster is answered as it is: not even repaired, since a repair
  // rewrites every contact of a cluster whose size the read does not know.
  if (frozen) return readOnly(roots[0] ?? null, ignored);

  const primary = oldest(mine);
  if (!primary) return readOnly(roots[0] ?? null, ignored);
  const promote = primary.linkPrecedence !== "primary";
  const absorb = roots.filter((root) => root !== primary.id).sort((a, b) => a - b);
  const insert: PlannedInsert | null =
    newEmail || newPhone
      ? {
          // The kept request fields: a known one is repeated, one dropped by a limit is not stored.
          email: newEmail || emailHolder ? email : null,
          phoneNumber: newPhone || phoneHolder ? phoneNumber : null,
          linkPrecedence: "secondary",
          linkedId: primary.id,
        }
      : null;

  const outcome: Outcome = promote || absorb.length > 0 ? "merged" : insert ? "linked" : "unchanged";
  const growth: Growth | null =
    insert || absorb.length > 0
      ? { emails: newEmail ? 1 : 0, phones: newPhone ? 1 : 0, contacts: insert ? 1 : 0 }
      : null;
  const bridge = absorb.length > 0 && insert === null && email !== null && phoneNumber !== null;
  return { outcome, primaryId: primary.id, promote, absorb, insert, bridge, answerRoot: primary.id, ignored, growth };
}

/**
 * The `/identify` answer for one reconciled cluster: the primary's own email and
 * phone first, then the others in creation order, each once; secondaries ascending.
 * Bounded by the limits, whatever the cluster holds: at most `maxContacts(limits)`
 * contacts (the oldest), `limits.emails` emails and `limits.phones` phones. Only a
 * cluster already over the limits (older data) loses anything to the bound.
 */
export function buildIdentifyResponse(rows: readonly ContactRow[], limits: ClusterLimits): IdentifyResponse {
  const ordered = [...rows].sort(byAge).slice(0, maxContacts(limits));
  const primary = ordered[0];
  if (!primary) throw new Error("buildIdentifyResponse needs at least one contact");
  const emails = new Set<string>();
  const phoneNumbers = new Set<string>();
  for (const row of ordered) {
    if (row.email !== null && emails.size < limits.emails) emails.add(row.email);
    if (row.phoneNumber !== null && phoneNumbers.size < limits.phones) phoneNumbers.add(row.phoneNumber);
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

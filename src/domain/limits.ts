/** The most distinct emails and phones one cluster may hold (invariant 5). */
export type ClusterLimits = { emails: number; phones: number };

/** Used when a variable is unset or empty: room for a real customer's history, not for a placeholder's crowd. */
export const DEFAULT_CLUSTER_LIMIT = 50;
/** Bounds the rows a request reads and answers; far above any one person's identifiers. */
const MAX_CLUSTER_LIMIT = 1000;

/** A cluster limit variable is not a whole number in range; the message names the variable, never guesses. */
export class ClusterLimitError extends Error {
  constructor(name: string) {
    super(`${name} must be a whole number from 1 to ${MAX_CLUSTER_LIMIT}, or empty for ${DEFAULT_CLUSTER_LIMIT}`);
    this.name = "ClusterLimitError";
  }
}

function parseLimit(name: string, text: string | undefined): number {
  const trimmed = (text ?? "").trim();
  if (trimmed === "") return DEFAULT_CLUSTER_LIMIT;
  const limit = /^[0-9]{1,4}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_CLUSTER_LIMIT)) throw new ClusterLimitError(name);
  return limit;
}

/**
 * Parses `MAX_EMAILS_PER_CLUSTER` and `MAX_PHONES_PER_CLUSTER`.
 * @throws ClusterLimitError for anything but a whole number from 1 to MAX_CLUSTER_LIMIT (fails closed).
 */
export function parseClusterLimits(emails: string | undefined, phones: string | undefined): ClusterLimits {
  return {
    emails: parseLimit("MAX_EMAILS_PER_CLUSTER", emails),
    phones: parseLimit("MAX_PHONES_PER_CLUSTER", phones),
  };
}

/**
 * The most contacts a cluster grown under `limits` can hold: every stored contact brought
 * at least one identifier its cluster did not have, and merged clusters share none.
 * A cluster with more is treated as over its limits, which keeps every read bounded.
 */
export function maxContacts(limits: ClusterLimits): number {
  return limits.emails + limits.phones;
}

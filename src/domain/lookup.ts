import type { Ignored } from "./blocking";
import type { ContactRow, Identifiers, IdentifyResponse } from "./contact";
import type { ClusterLimits } from "./limits";
import { buildIdentifyResponse, clusterOf, firstHolder, rootOf } from "./reconcile";

/** A lookup's answer, and what of the request it could not honour (the `Identity-Ignored` header). */
export type LookupAnswer = { response: IdentifyResponse; ignored: Ignored[] };

/**
 * Answers a lookup from the clusters holding its email and phone, without changing
 * anything: the email's cluster, else the phone's. When the two lie in different
 * clusters the email's wins, and the phone is reported as `phoneNumber=other_cluster`.
 * Undefined when neither is known.
 */
export function answerLookup(
  rows: readonly ContactRow[],
  who: Identifiers,
  limits: ClusterLimits,
): LookupAnswer | undefined {
  const byEmail = firstHolder(rows, "email", who.email);
  const byPhone = firstHolder(rows, "phoneNumber", who.phoneNumber);
  const found = byEmail ?? byPhone;
  if (!found) return undefined;
  const root = rootOf(found);
  const ignored =
    byEmail && byPhone && rootOf(byPhone) !== root
      ? [{ field: "phoneNumber" as const, reason: "other_cluster" as const }]
      : [];
  return { response: buildIdentifyResponse(clusterOf(rows, root), limits), ignored };
}

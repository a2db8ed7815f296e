import { type ContactRow, type Identifiers, oldest } from "../domain/contact";

/**
 * The name of the ClusterReconciler that owns the writes for these rows: the
 * cluster's primary (its oldest contact) when the request matched something,
 * otherwise the request's own identifier, so that callers creating the same new
 * contact queue in the same object.
 */
export function ownerKey(rows: readonly ContactRow[], who: Identifiers): string {
  const primary = oldest(rows);
  if (primary) return `contact:${primary.id}`;
  if (who.email !== undefined) return `email:${who.email}`;
  return `phone:${who.phoneNumber ?? ""}`;
}

import { type ContactRow, type Identifiers, oldest } from "../domain/contact";
import { hex } from "../text";

/**
 * The name of the ClusterReconciler that owns the writes for these rows: the
 * cluster's primary (its oldest contact) when the request matched something,
 * otherwise a digest of the request's own identifier, so that callers creating the
 * same new contact queue in the same object. A digest, not the raw value: object
 * names show up in Cloudflare's dashboard and traces, and must not carry personal data.
 */
export async function ownerKey(rows: readonly ContactRow[], who: Identifiers): Promise<string> {
  const primary = oldest(rows);
  if (primary) return `contact:${primary.id}`;
  const identifier = who.email !== undefined ? `email:${who.email}` : `phone:${who.phoneNumber ?? ""}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(identifier));
  return `new:${hex(digest)}`;
}

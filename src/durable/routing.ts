import { type ContactRow, type Identifiers, oldest } from "../domain/contact";
import type { ErasureTarget, StoredContact } from "../domain/erasure";

/** Warm objects that new contacts queue in when `NEW_CONTACT_OBJECTS` is unset or invalid. */
export const DEFAULT_NEW_CONTACT_OBJECTS = 16;
const MAX_NEW_CONTACT_OBJECTS = 1024;

/**
 * How many warm objects new contacts are spread over (`NEW_CONTACT_OBJECTS`, 1 to 1024).
 * Changing it moves some new identifiers to another object: safe (the guard of every
 * write catches two objects racing), but best done when traffic is low.
 */
export function newContactObjects(env: Pick<Env, "NEW_CONTACT_OBJECTS">): number {
  const value = Number(env.NEW_CONTACT_OBJECTS);
  return Number.isInteger(value) && value >= 1 && value <= MAX_NEW_CONTACT_OBJECTS
    ? value
    : DEFAULT_NEW_CONTACT_OBJECTS;
}

/** FNV-1a, 32 bits: spreads identifiers evenly over a few objects, at a fraction of SHA-256's cost. */
function digest(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * The name of the ClusterReconciler that owns the writes for these rows: the
 * cluster's primary (its oldest contact) when the request matched something.
 * Otherwise one of `newObjects` warm objects picked by a digest of the request's
 * email (else its phone): callers creating the same new contact queue in the same
 * object, and no object is created per new customer. The name carries only the
 * object's number: names show up in Cloudflare's dashboard and traces, and must not
 * carry personal data.
 */
export function ownerKey(rows: readonly ContactRow[], who: Identifiers, newObjects: number): string {
  const primary = oldest(rows);
  if (primary) return `contact:${primary.id}`;
  const identifier = who.email !== undefined ? `email:${who.email}` : `phone:${who.phoneNumber ?? ""}`;
  return `new:${digest(identifier) % newObjects}`;
}

/**
 * The ClusterReconciler that serialises an erasure: the owner of the oldest live contact it
 * reads (the primary of the oldest touched cluster), the same object `/identify` writes that
 * cluster through; for values only soft-deleted rows hold, the object new contacts with those
 * values would queue in.
 */
export function erasureOwnerKey(rows: readonly StoredContact[], target: ErasureTarget, newObjects: number): string {
  const live = rows.filter((row) => row.deletedAt === null);
  return ownerKey(live, "values" in target ? target.values : {}, newObjects);
}

import { type Bridge, type Relink, reformClusters, UnionFind } from "./components";
import { byAge, type ContactRow, type Identifiers } from "./contact";
import { rootOf } from "./reconcile";

export type { Bridge } from "./components";

/** A stored contact as erasure sees it: soft-deleted rows hold values too, and are erased with the rest. */
export type StoredContact = ContactRow & { deletedAt: string | null };

/** What to erase: a whole cluster (`DELETE /contacts/{id}`), or values wherever stored (`POST /erase`). */
export type ErasureTarget = { cluster: number } | { values: Identifiers };

/** An event an erasure (or an unmerge) records, ids only. */
export type PlannedEvent = {
  kind: "erased" | "split" | "unmerged";
  primaryContactId: number;
  contactIds: number[];
  /** The primary of the cluster it came from (for `erased`, the same as `primaryContactId`). */
  previousPrimaryContactId: number;
  /** For `unmerged`: the bridge removed. */
  bridgeId?: number;
};

/** The writes of one erasure, and the clusters it leaves. */
export type ErasurePlan = {
  /** Contacts deleted (left with no value, or in the erased cluster), ascending. */
  deleted: number[];
  /** Kept contacts whose email, or phone, is erased. */
  clearEmail: number[];
  clearPhone: number[];
  /** Kept contacts whose link changes. */
  relink: Relink[];
  removedBridges: number[];
  /** Legacy bridges that keep tying what a deleted contact tied (see tieLegacySurvivors). */
  addedBridges: { emailContactId: number; phoneContactId: number }[];
  /** The clusters the erasure leaves, as their rows after it, by primary id. */
  clusters: ContactRow[][];
  events: PlannedEvent[];
  /** A separation to record between two contacts (an unmerge's), `[low, high]`. */
  separate?: [number, number];
};

/** The contacts the target names directly: the erased cluster's contact, or every holder of a value. */
function targeted(rows: readonly StoredContact[], target: ErasureTarget): StoredContact[] {
  if ("cluster" in target) return rows.filter((row) => row.id === target.cluster && row.deletedAt === null);
  const { email, phoneNumber } = target.values;
  return rows.filter(
    (row) =>
      (email !== undefined && row.email === email) || (phoneNumber !== undefined && row.phoneNumber === phoneNumber),
  );
}

/** True when the target names at least one stored contact: otherwise there is nothing to erase. */
export function namesAnything(rows: readonly StoredContact[], target: ErasureTarget): boolean {
  return targeted(rows, target).length > 0;
}

/**
 * The roots of the live clusters an erasure re-forms: the cluster of each live contact it
 * names, and the live contacts still linked to a soft-deleted one it names.
 */
function touchedRoots(named: readonly StoredContact[]): Set<number> {
  return new Set(named.map((row) => (row.deletedAt === null ? rootOf(row) : row.id)));
}

/**
 * Legacy bridges stand for "one cluster before bridges were recorded". When a contact they
 * tie is deleted, the contacts it tied must stay tied: every legacy group that loses a member
 * is re-tied as a star from its oldest surviving member (its old legacy bridges go).
 */
function tieLegacySurvivors(
  bridges: readonly Bridge[],
  byId: ReadonlyMap<number, StoredContact>,
  gone: ReadonlySet<number>,
): { removed: number[]; added: ErasurePlan["addedBridges"] } {
  const legacy = bridges.filter((bridge) => bridge.kind === "legacy");
  const groups = new UnionFind();
  for (const bridge of legacy) groups.union(bridge.emailContactId, bridge.phoneContactId);
  // Each group's members and bridges, gathered in one pass: linear in the bridges.
  const members = new Map<number, { ids: Set<number>; bridgeIds: number[] }>();
  for (const bridge of legacy) {
    const group = groups.find(bridge.emailContactId);
    let entry = members.get(group);
    if (!entry) {
      entry = { ids: new Set(), bridgeIds: [] };
      members.set(group, entry);
    }
    entry.ids.add(bridge.emailContactId).add(bridge.phoneContactId);
    entry.bridgeIds.push(bridge.id);
  }
  const removed: number[] = [];
  const added: ErasurePlan["addedBridges"] = [];
  for (const { ids, bridgeIds } of members.values()) {
    if (![...ids].some((id) => gone.has(id))) continue;
    for (const id of bridgeIds) removed.push(id);
    const survivors = [...ids]
      .filter((id) => !gone.has(id))
      .map((id) => byId.get(id))
      .filter((row): row is StoredContact => row !== undefined && row.deletedAt === null)
      .sort(byAge);
    const [anchor, ...rest] = survivors;
    if (anchor) for (const row of rest) added.push({ emailContactId: anchor.id, phoneContactId: row.id });
  }
  return { removed, added };
}

/**
 * Plans an erasure over every stored row of the clusters it touches (soft-deleted ones and
 * rows linked to them included) and the bridges of those rows:
 * 1. the target's values are removed; a contact left with neither value, or in an erased
 *    cluster, is deleted;
 * 2. a request bridge whose email (phone) contact lost its email (phone), or any bridge of a
 *    deleted contact, goes; legacy ties are kept among the survivors;
 * 3. what remains of each touched cluster is split into its connected components (shared
 *    email, shared phone, remaining bridges), each with its oldest contact as primary;
 * 4. per touched cluster whose data changed, an `erased` event (its deleted contacts, none when
 *    only values went), and a `split` event per resulting cluster when it came apart or changed
 *    primary, listing every contact of it.
 * Pure: the caller commits the plan in one guarded batch.
 */
export function planErasure(
  rows: readonly StoredContact[],
  bridges: readonly Bridge[],
  target: ErasureTarget,
): ErasurePlan {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const roots = touchedRoots(targeted(rows, target));
  const inTouched = (row: StoredContact) => row.deletedAt === null && roots.has(rootOf(row));

  // 1. Values and rows.
  const erasedEmail = "values" in target ? target.values.email : undefined;
  const erasedPhone = "values" in target ? target.values.phoneNumber : undefined;
  const after = new Map<number, StoredContact>();
  const deleted = new Set<number>();
  const clearEmail: number[] = [];
  const clearPhone: number[] = [];
  for (const row of rows) {
    if ("cluster" in target) {
      if (roots.has(rootOf(row)) || roots.has(row.id)) deleted.add(row.id);
      else after.set(row.id, row);
      continue;
    }
    const email = erasedEmail !== undefined && row.email === erasedEmail ? null : row.email;
    const phoneNumber = erasedPhone !== undefined && row.phoneNumber === erasedPhone ? null : row.phoneNumber;
    if (email === null && phoneNumber === null) {
      deleted.add(row.id);
      continue;
    }
    if (email !== row.email) clearEmail.push(row.id);
    if (phoneNumber !== row.phoneNumber) clearPhone.push(row.id);
    after.set(row.id, { ...row, email, phoneNumber });
  }

  // 2. Bridges.
  const lostEmail = new Set(clearEmail);
  const lostPhone = new Set(clearPhone);
  const legacy = tieLegacySurvivors(bridges, byId, deleted);
  const removedBridges = new Set(legacy.removed);
  for (const bridge of bridges) {
    const reliedOnErased =
      bridge.kind === "request" && (lostEmail.has(bridge.emailContactId) || lostPhone.has(bridge.phoneContactId));
    if (reliedOnErased || deleted.has(bridge.emailContactId) || deleted.has(bridge.phoneContactId)) {
      removedBridges.add(bridge.id);
    }
  }

  // 3. Components of what remains of the touched clusters.
  const kept = [...after.values()].filter(inTouched);
  const keptIds = new Set(kept.map((row) => row.id));
  const ties = [...bridges.filter((bridge) => !removedBridges.has(bridge.id)), ...legacy.added];
  const { clusters, relink } = reformClusters(kept, ties);
  // A row outside the re-formed clusters (soft-deleted, or a stray) may not keep pointing at
  // a deleted contact: it stands alone.
  for (const row of after.values()) {
    if (!keptIds.has(row.id) && row.linkedId !== null && deleted.has(row.linkedId)) {
      relink.push({ id: row.id, linkedId: null, linkPrecedence: "primary" });
    }
  }

  // 4. Events, per touched cluster. Rows and resulting clusters are grouped by root once,
  // so that planning stays linear however many rows and clusters there are.
  const membersOf = new Map<number, StoredContact[]>();
  for (const row of rows) {
    for (const root of new Set([rootOf(row), row.id])) {
      if (!roots.has(root)) continue;
      const members = membersOf.get(root);
      if (members) members.push(row);
      else membersOf.set(root, [row]);
    }
  }
  const clusterOfRow = new Map<number, number>();
  clusters.forEach((cluster, index) => {
    for (const row of cluster) clusterOfRow.set(row.id, index);
  });
  const events: PlannedEvent[] = [];
  for (const root of [...roots].sort((a, b) => a - b)) {
    const members = membersOf.get(root) ?? [];
    const changed = members
      .filter((row) => deleted.has(row.id) || lostEmail.has(row.id) || lostPhone.has(row.id))
      .map((row) => row.id)
      .sort((a, b) => a - b);
    if (changed.length === 0) continue;
    // Only the deleted contacts: a consumer's mirror drops what `erased` lists (docs/feed.md).
    const gone = changed.filter((id) => deleted.has(id));
    events.push({ kind: "erased", primaryContactId: root, contactIds: gone, previousPrimaryContactId: root });
    // The resulting clusters in the order re-forming gave them (by primary id), each once.
    const indexes = new Set<number>();
    for (const row of members) {
      const index = clusterOfRow.get(row.id);
      if (index !== undefined) indexes.add(index);
    }
    const results = [...indexes].sort((a, b) => a - b).flatMap((index) => clusters.slice(index, index + 1));
    const unchanged = results.length === 1 && results[0]?.[0]?.id === root;
    if (unchanged) continue;
    for (const cluster of results) {
      events.push({
        kind: "split",
        primaryContactId: cluster[0]?.id ?? root,
        contactIds: cluster.map((row) => row.id).sort((a, b) => a - b),
        previousPrimaryContactId: root,
      });
    }
  }

  return {
    deleted: [...deleted].sort((a, b) => a - b),
    clearEmail,
    clearPhone,
    relink,
    removedBridges: [...removedBridges].sort((a, b) => a - b),
    addedBridges: legacy.added,
    clusters,
    events,
  };
}

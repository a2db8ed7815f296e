import { byAge, type ContactRow } from "./contact";

/**
 * Union-find over contact ids, with union by rank and path compression: any sequence of
 * operations costs nearly linear time, whatever the order the links come in (a legacy
 * cluster of many thousands of rows included).
 */
export class UnionFind {
  private readonly parent = new Map<number, number>();
  private readonly rank = new Map<number, number>();

  /** The representative of `id`'s set (`id` itself the first time it is seen). */
  find(id: number): number {
    let root = id;
    for (let up = this.parent.get(root); up !== undefined && up !== root; up = this.parent.get(root)) root = up;
    // Path compression: every node on the way now points at the root.
    for (let node = id; node !== root; ) {
      const up = this.parent.get(node) ?? root;
      this.parent.set(node, root);
      node = up;
    }
    if (!this.parent.has(root)) this.parent.set(root, root);
    return root;
  }

  /** Joins the sets of `a` and `b`: the shallower tree goes under the deeper one. */
  union(a: number, b: number): void {
    const rootA = this.find(a);
    const rootB = this.find(b);
    if (rootA === rootB) return;
    const rankA = this.rank.get(rootA) ?? 0;
    const rankB = this.rank.get(rootB) ?? 0;
    if (rankA < rankB) this.parent.set(rootA, rootB);
    else if (rankA > rankB) this.parent.set(rootB, rootA);
    else {
      this.parent.set(rootB, rootA);
      this.rank.set(rootA, rankA + 1);
    }
  }
}

/** A link between two contacts that no shared value shows: a bridge (src/db/schema.ts), or a tie an erasure adds. */
export type Tie = { emailContactId: number; phoneContactId: number };

/**
 * A link no shared value shows (see src/db/schema.ts). A `request` bridge relies on the
 * email of `emailContactId` and the phone of `phoneContactId`; a `legacy` one on no value.
 */
export type Bridge = Tie & { id: number; kind: "request" | "legacy" };

/** A contact whose stored link changes when its cluster is re-formed. */
export type Relink = { id: number; linkedId: number | null; linkPrecedence: "primary" | "secondary" };

/** What re-forming leaves: the clusters (each oldest first, by primary id) and the links to rewrite. */
export type Reformed = { clusters: ContactRow[][]; relink: Relink[] };

/**
 * Re-forms `rows` (the live contacts of what was one or more clusters) into their connected
 * components: contacts sharing an email, sharing a phone, or tied by one of `ties` (ties to
 * contacts outside `rows` count for nothing). Each component's oldest contact is its primary
 * and the others link to it (contract invariants 1 and 2). The one re-forming of clusters,
 * for erasure and unmerge alike. Linear in rows and ties.
 */
export function reformClusters(rows: readonly ContactRow[], ties: readonly Tie[]): Reformed {
  const components = new UnionFind();
  const firstWith = new Map<string, number>();
  const ids = new Set<number>();
  for (const row of rows) {
    ids.add(row.id);
    components.find(row.id);
    for (const key of [
      row.email === null ? null : `e:${row.email}`,
      row.phoneNumber === null ? null : `p:${row.phoneNumber}`,
    ]) {
      if (key === null) continue;
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, row.id);
      else components.union(first, row.id);
    }
  }
  for (const tie of ties) {
    if (ids.has(tie.emailContactId) && ids.has(tie.phoneContactId)) {
      components.union(tie.emailContactId, tie.phoneContactId);
    }
  }
  const grouped = new Map<number, ContactRow[]>();
  for (const row of rows) {
    const component = components.find(row.id);
    const members = grouped.get(component);
    if (members) members.push(row);
    else grouped.set(component, [row]);
  }

  const relink: Relink[] = [];
  const clusters: ContactRow[][] = [];
  for (const members of grouped.values()) {
    members.sort(byAge);
    const primaryId = members[0]?.id;
    const cluster: ContactRow[] = [];
    for (const row of members) {
      const linkedId = row.id === primaryId ? null : (primaryId ?? null);
      const linkPrecedence = linkedId === null ? "primary" : "secondary";
      if (row.linkedId !== linkedId || row.linkPrecedence !== linkPrecedence) {
        relink.push({ id: row.id, linkedId, linkPrecedence });
      }
      // Only the ContactRow columns: callers may pass rows with more (a soft-delete mark).
      const { id, email, phoneNumber, createdAt } = row;
      cluster.push({ id, email, phoneNumber, createdAt, linkedId, linkPrecedence });
    }
    clusters.push(cluster);
  }
  clusters.sort((a, b) => (a[0]?.id ?? 0) - (b[0]?.id ?? 0));
  return { clusters, relink };
}

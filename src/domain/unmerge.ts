import { reformClusters } from "./components";
import type { ErasurePlan, StoredContact } from "./erasure";
import { type GraphLink, linksOf, reachableFrom, type StoredBridge, shortestPath } from "./graph";
import { rootOf } from "./reconcile";

/**
 * What an unmerge of bridge `bridgeId` from the cluster of contact `id` comes to:
 * - `no_contact`: `id` is no live contact; `no_bridge`: the bridge is not in its cluster;
 * - `still_linked`: other links still join the bridge's two contacts (`path`, from its email
 *   contact to its phone contact), so removing it would split nothing: nothing is written;
 * - `split`: the writes, as an erasure's plan that erases nothing: the bridge removed (for a
 *   legacy bridge, with the legacy ties of its contact's group: see legacyTiesOf), the
 *   cluster re-formed into its components, one `unmerged` event per resulting cluster, and
 *   a separation between the bridge's two contacts.
 */
export type UnmergePlan =
  | { kind: "no_contact" }
  | { kind: "no_bridge" }
  | { kind: "still_linked"; path: GraphLink[] }
  | { kind: "split"; plan: ErasurePlan };

/**
 * Plans an unmerge over the rows and bridges of the cluster of contact `id` (as the erasure
 * scope of that cluster reads them). Pure: the caller commits the plan in one guarded batch.
 */
export function planUnmerge(
  rows: readonly StoredContact[],
  bridges: readonly StoredBridge[],
  id: number,
  bridgeId: number,
): UnmergePlan {
  const self = rows.find((row) => row.id === id && row.deletedAt === null);
  if (!self) return { kind: "no_contact" };
  const root = rootOf(self);
  const cluster = rows.filter((row) => row.deletedAt === null && rootOf(row) === root);
  const ids = new Set(cluster.map((row) => row.id));
  const bridge = bridges.find((b) => b.id === bridgeId);
  if (!bridge || !ids.has(bridge.emailContactId) || !ids.has(bridge.phoneContactId)) return { kind: "no_bridge" };

  const removed = new Set(bridge.kind === "legacy" ? legacyTiesOf(cluster, bridges, bridge) : [bridgeId]);
  const kept = bridges.filter((b) => !removed.has(b.id));
  const path = shortestPath(linksOf(cluster, kept), bridge.emailContactId, bridge.phoneContactId);
  if (path !== null) return { kind: "still_linked", path };

  const { clusters, relink } = reformClusters(cluster, kept);
  const [low, high] = [bridge.emailContactId, bridge.phoneContactId].sort((a, b) => a - b);
  return {
    kind: "split",
    plan: {
      deleted: [],
      clearEmail: [],
      clearPhone: [],
      relink,
      removedBridges: [...removed].sort((a, b) => a - b),
      addedBridges: [],
      clusters,
      events: clusters.map((members) => ({
        kind: "unmerged",
        primaryContactId: members[0]?.id ?? root,
        contactIds: members.map((row) => row.id).sort((a, b) => a - b),
        previousPrimaryContactId: root,
        bridgeId,
      })),
      separate: [low ?? bridge.emailContactId, high ?? bridge.phoneContactId],
    },
  };
}

/**
 * The legacy bridges an unmerge of legacy bridge `bridge` removes. The legacy migration tied
 * every member of an old cluster to its oldest contact (the anchor, `emailContactId`), each by
 * a bridge of its own, so the members that share values with the bridge's other contact are
 * tied to the anchor by their own bridges too, and removing one would split nothing. Unmerging
 * it cuts that whole group from the anchor: every legacy bridge from the anchor to a contact
 * the other one reaches without the anchor's legacy bridges.
 */
function legacyTiesOf(
  cluster: readonly StoredContact[],
  bridges: readonly StoredBridge[],
  bridge: StoredBridge,
): number[] {
  const anchor = bridge.emailContactId;
  const isAnchorTie = (b: StoredBridge) => b.kind === "legacy" && b.emailContactId === anchor;
  const group = reachableFrom(
    linksOf(
      cluster,
      bridges.filter((b) => !isAnchorTie(b)),
    ),
    bridge.phoneContactId,
  );
  return bridges.filter((b) => isAnchorTie(b) && group.has(b.phoneContactId)).map((b) => b.id);
}

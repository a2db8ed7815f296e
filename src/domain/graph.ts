import type { ContactGraph, GraphLink } from "../contract/graph";
import type { Bridge } from "./components";
import { byAge, type ContactRow } from "./contact";

export type { ContactGraph, GraphLink } from "../contract/graph";

/** A bridge as the graph shows it: when it was made, and by which request (null for a legacy one). */
export type StoredBridge = Bridge & { createdAt: string; requestId: string | null };

/**
 * The links of a cluster, as the contract defines them: for each email (and each phone) held
 * by several of `rows`, one link from each later holder (creation order) to its first holder;
 * then one link per bridge between two of `rows`, from its email contact to its phone contact.
 * Links in the order of their later holder's creation, bridges after, by id.
 */
export function linksOf(rows: readonly ContactRow[], bridges: readonly StoredBridge[]): GraphLink[] {
  const links: GraphLink[] = [];
  const firstWith = new Map<string, number>();
  for (const row of [...rows].sort(byAge)) {
    for (const via of ["email", "phoneNumber"] as const) {
      const value = row[via];
      if (value === null) continue;
      const key = `${via}:${value}`;
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, row.id);
      else links.push({ from: row.id, to: first, via, value });
    }
  }
  const ids = new Set(rows.map((row) => row.id));
  for (const bridge of [...bridges].sort((a, b) => a.id - b.id)) {
    if (!ids.has(bridge.emailContactId) || !ids.has(bridge.phoneContactId)) continue;
    links.push({
      from: bridge.emailContactId,
      to: bridge.phoneContactId,
      via: "bridge",
      bridgeId: bridge.id,
      at: bridge.createdAt,
      requestId: bridge.requestId,
    });
  }
  return links;
}

/**
 * The graph of one cluster from its rows and bridges: its primary (the oldest row), its
 * contacts in creation order, and its links (linksOf).
 * @throws Error when `rows` is empty: a cluster has at least one contact.
 */
export function buildGraph(rows: readonly ContactRow[], bridges: readonly StoredBridge[]): ContactGraph {
  const ordered = [...rows].sort(byAge);
  const primary = ordered[0];
  if (!primary) throw new Error("buildGraph needs at least one contact");
  return {
    primaryContactId: primary.id,
    contacts: ordered.map(({ id, email, phoneNumber, linkPrecedence, createdAt }) => ({
      id,
      email,
      phoneNumber,
      linkPrecedence,
      createdAt,
    })),
    links: linksOf(ordered, bridges),
  };
}

/**
 * A shortest chain of `links` from contact `from` to contact `to` (breadth-first, links taken
 * either way), each link oriented along the way (its `from` nearer `from`); empty when
 * `from === to`, null when no chain joins them. Linear in the links.
 */
export function shortestPath(links: readonly GraphLink[], from: number, to: number): GraphLink[] | null {
  if (from === to) return [];
  const reachedBy = breadthFirst(links, from, to);
  return reachedBy.has(to) ? pathTo(reachedBy, to) : null;
}

/** Every contact a chain of `links` joins to `from`, `from` included. Linear in the links. */
export function reachableFrom(links: readonly GraphLink[], from: number): Set<number> {
  return new Set(breadthFirst(links, from).keys());
}

/**
 * Breadth-first from `from` over `links` taken either way, stopping once `to` is reached:
 * how each reached contact was reached (the link taken, oriented from the contact before it).
 */
function breadthFirst(links: readonly GraphLink[], from: number, to?: number): Map<number, GraphLink | null> {
  const adjacent = new Map<number, { link: GraphLink; next: number }[]>();
  const add = (at: number, link: GraphLink, next: number) => {
    const list = adjacent.get(at);
    if (list) list.push({ link, next });
    else adjacent.set(at, [{ link, next }]);
  };
  for (const link of links) {
    add(link.from, link, link.to);
    add(link.to, link, link.from);
  }
  const reachedBy = new Map<number, GraphLink | null>([[from, null]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head] ?? from;
    for (const { link, next } of adjacent.get(at) ?? []) {
      if (reachedBy.has(next)) continue;
      reachedBy.set(next, link.from === at ? link : { ...link, from: at, to: next });
      if (next === to) return reachedBy;
      queue.push(next);
    }
  }
  return reachedBy;
}

function pathTo(reachedBy: ReadonlyMap<number, GraphLink | null>, to: number): GraphLink[] {
  const path: GraphLink[] = [];
  for (let link = reachedBy.get(to); link; link = reachedBy.get(link.from)) path.push(link);
  return path.reverse();
}

import { describe, expect, it } from "vitest";
import { buildGraph, type GraphLink, type StoredBridge, shortestPath } from "../../src/domain/graph";
import { row as contactRow, minute } from "./rows";

const at = minute;
/** A secondary of contact 1 unless said otherwise. */
const row = (id: number, email: string | null, phoneNumber: string | null, linkedId: number | null = 1) =>
  contactRow(id, email, phoneNumber, linkedId);

const bridge = (id: number, emailContactId: number, phoneContactId: number, requestId: string | null = `req-${id}`) =>
  ({
    id,
    kind: requestId === null ? "legacy" : "request",
    emailContactId,
    phoneContactId,
    createdAt: at(40 + id),
    requestId,
  }) satisfies StoredBridge;

// 1{a,p} - 2{b,p} (phone p) ; 3{b,q} (email b, to 2) ; 4{c,r} bridged from 3's email to 4's phone;
// 5{d,r} shares 4's phone; 6{e,s} tied to 1 by a legacy bridge.
const rows = [
  row(1, "a", "p", null),
  row(2, "b", "p"),
  row(3, "b", "q"),
  row(4, "c", "r"),
  row(5, "d", "r"),
  row(6, "e", "s"),
];
const bridges = [bridge(7, 3, 4), bridge(8, 6, 1, null)];

describe("buildGraph", () => {
  it("lists contacts in creation order and the contract's links", () => {
    // Given out of order: the graph orders them.
    const graph = buildGraph([...rows].reverse(), bridges);
    expect(graph.primaryContactId).toBe(1);
    expect(graph.contacts.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(graph.contacts[0]).toEqual({
      id: 1,
      email: "a",
      phoneNumber: "p",
      linkPrecedence: "primary",
      createdAt: at(1),
    });
    expect(graph.links).toEqual([
      { from: 2, to: 1, via: "phoneNumber", value: "p" },
      { from: 3, to: 2, via: "email", value: "b" },
      { from: 5, to: 4, via: "phoneNumber", value: "r" },
      { from: 3, to: 4, via: "bridge", bridgeId: 7, at: at(47), requestId: "req-7" },
      { from: 6, to: 1, via: "bridge", bridgeId: 8, at: at(48), requestId: null },
    ]);
  });

  it("links every later holder of a value to its first holder (a star, not a chain)", () => {
    const graph = buildGraph([row(1, "a", "p", null), row(2, "b", "p"), row(3, "c", "p")], []);
    expect(graph.links.map((link) => [link.from, link.to])).toEqual([
      [2, 1],
      [3, 1],
    ]);
  });

  it("leaves out a bridge to a contact outside the rows", () => {
    expect(buildGraph([row(1, "a", "p", null)], [bridge(9, 1, 77)]).links).toEqual([]);
  });
});

describe("shortestPath", () => {
  const { links } = buildGraph(rows, bridges);
  const hops = (path: GraphLink[] | null) => path?.map((link) => [link.from, link.to, link.via]);

  it("walks a shortest chain, each link oriented along the way", () => {
    expect(hops(shortestPath(links, 5, 6))).toEqual([
      [5, 4, "phoneNumber"],
      [4, 3, "bridge"],
      [3, 2, "email"],
      [2, 1, "phoneNumber"],
      [1, 6, "bridge"],
    ]);
    // The other way round, the same links, turned.
    expect(hops(shortestPath(links, 6, 5))).toEqual([
      [6, 1, "bridge"],
      [1, 2, "phoneNumber"],
      [2, 3, "email"],
      [3, 4, "bridge"],
      [4, 5, "phoneNumber"],
    ]);
    // A turned bridge keeps its id, time and request.
    expect(shortestPath(links, 4, 3)).toEqual([
      { from: 4, to: 3, via: "bridge", bridgeId: 7, at: at(47), requestId: "req-7" },
    ]);
  });

  it("takes the shortest of two chains", () => {
    const withShortcut = [
      ...links,
      { from: 5, to: 1, via: "bridge", bridgeId: 10, at: at(50), requestId: "r" } as const,
    ];
    expect(hops(shortestPath(withShortcut, 5, 6))).toEqual([
      [5, 1, "bridge"],
      [1, 6, "bridge"],
    ]);
  });

  it("answers an empty path from a contact to itself, and null when nothing joins them", () => {
    expect(shortestPath(links, 3, 3)).toEqual([]);
    expect(shortestPath(links, 3, 99)).toBeNull();
    expect(
      shortestPath(
        links.filter((link) => link.via !== "bridge"),
        1,
        5,
      ),
    ).toBeNull();
  });
});

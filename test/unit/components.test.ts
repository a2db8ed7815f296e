import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reformClusters, UnionFind } from "../../src/domain/components";
import { row } from "./rows";

describe("UnionFind", () => {
  it("joins sets and tells them apart", () => {
    const sets = new UnionFind();
    sets.union(1, 2);
    sets.union(3, 4);
    expect(sets.find(1)).toBe(sets.find(2));
    expect(sets.find(3)).toBe(sets.find(4));
    expect(sets.find(1)).not.toBe(sets.find(3));
    sets.union(2, 4);
    expect(new Set([1, 2, 3, 4].map((id) => sets.find(id))).size).toBe(1);
    expect(sets.find(5)).toBe(5);
  });

  it("stays near-linear on a 100k-long chain joined in the worst order", () => {
    const sets = new UnionFind();
    const n = 100_000;
    const started = performance.now();
    for (let i = 1; i < n; i++) sets.union(i, i + 1);
    for (let i = 1; i <= n; i++) sets.find(i);
    expect(sets.find(1)).toBe(sets.find(n));
    // A quadratic one takes minutes here; rank and compression a fraction of a second (slack for a busy machine).
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("agrees with a naive partition on random unions", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }))), (pairs) => {
        const sets = new UnionFind();
        const label = Array.from({ length: 13 }, (_, i) => i);
        for (const [a, b] of pairs) {
          sets.union(a, b);
          const [from, to] = [label[a], label[b]];
          for (let i = 0; i < label.length; i++) if (label[i] === from) label[i] = to ?? i;
        }
        for (let a = 0; a <= 12; a++)
          for (let b = 0; b <= 12; b++) expect(sets.find(a) === sets.find(b)).toBe(label[a] === label[b]);
      }),
    );
  });
});

describe("reformClusters", () => {
  it("groups by shared email, shared phone and ties; the oldest is each cluster's primary", () => {
    const rows = [
      row(1, "a", "p", null),
      row(2, "b", "p", 1),
      row(3, "c", "q", 1),
      row(4, "c", null, 1),
      row(5, "d", "r", 1),
      row(6, "e", "s", 1),
    ];
    const { clusters, relink } = reformClusters(rows, [
      { emailContactId: 5, phoneContactId: 6 },
      // A tie to a contact outside the rows counts for nothing.
      { emailContactId: 1, phoneContactId: 99 },
    ]);
    expect(clusters.map((cluster) => cluster.map((r) => r.id))).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(clusters[1]?.[0]).toEqual({ ...row(3, "c", "q", null), linkedId: null, linkPrecedence: "primary" });
    expect(relink).toEqual([
      { id: 3, linkedId: null, linkPrecedence: "primary" },
      { id: 4, linkedId: 3, linkPrecedence: "secondary" },
      { id: 5, linkedId: null, linkPrecedence: "primary" },
      { id: 6, linkedId: 5, linkPrecedence: "secondary" },
    ]);
  });

  it("rewrites nothing for a cluster that stays whole, and drops columns beyond ContactRow", () => {
    const rows = [
      { ...row(1, "a", "p", null), deletedAt: null },
      { ...row(2, "a", "q", 1), deletedAt: null },
    ];
    const { clusters, relink } = reformClusters(rows, []);
    expect(relink).toEqual([]);
    expect(clusters).toEqual([[row(1, "a", "p", null), row(2, "a", "q", 1)]]);
  });

  it("re-forms 50k contacts held together by one phone in linear time", () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => row(i + 1, `m${i}`, "shared", i === 0 ? null : 1));
    const started = performance.now();
    const { clusters, relink } = reformClusters(rows, []);
    expect(clusters).toHaveLength(1);
    expect(relink).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

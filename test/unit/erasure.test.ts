import { describe, expect, it } from "vitest";
import { type Bridge, planErasure, type StoredContact } from "../../src/domain/erasure";
import { minute, row } from "./rows";

/** A stored contact; `linkedId` null makes it a primary. */
function contact(
  id: number,
  email: string | null,
  phoneNumber: string | null,
  linkedId: number | null = null,
): StoredContact {
  return { ...row(id, email, phoneNumber, linkedId), deletedAt: null };
}

const bridge = (
  id: number,
  emailContactId: number,
  phoneContactId: number,
  kind: Bridge["kind"] = "request",
): Bridge => ({
  id,
  kind,
  emailContactId,
  phoneContactId,
});

/** The clusters of a plan as [primary, ...secondaries] id lists. */
const shape = (plan: ReturnType<typeof planErasure>) => plan.clusters.map((cluster) => cluster.map((row) => row.id));

describe("planErasure", () => {
  const chain = [contact(1, "a", "p"), contact(2, "b", "p", 1), contact(3, "b", "q", 1)];

  it("splits the chain 1{a,p} 2{b,p} 3{b,q} erased at p into {1} and {2,3}", () => {
    const plan = planErasure(chain, [], { values: { phoneNumber: "p" } });
    expect(shape(plan)).toEqual([[1], [2, 3]]);
    expect(plan).toMatchObject({
      deleted: [],
      clearEmail: [],
      clearPhone: [1, 2],
      relink: [
        { id: 2, linkedId: null, linkPrecedence: "primary" },
        { id: 3, linkedId: 2, linkPrecedence: "secondary" },
      ],
    });
    // Values went, no contact: `erased` lists none, the splits list every contact.
    expect(plan.events).toEqual([
      { kind: "erased", primaryContactId: 1, contactIds: [], previousPrimaryContactId: 1 },
      { kind: "split", primaryContactId: 1, contactIds: [1], previousPrimaryContactId: 1 },
      { kind: "split", primaryContactId: 2, contactIds: [2, 3], previousPrimaryContactId: 1 },
    ]);
  });

  it("splits nothing when no link relied on the erased value, and keeps a row that still has a value", () => {
    const plan = planErasure(chain, [], { values: { phoneNumber: "q" } });
    expect(shape(plan)).toEqual([[1, 2, 3]]);
    expect(plan).toMatchObject({ deleted: [], clearPhone: [3], relink: [] });
    expect(plan.events.map((event) => event.kind)).toEqual(["erased"]);
  });

  it("deletes a contact left with neither value, and the oldest survivor becomes primary", () => {
    const plan = planErasure([contact(1, "a", null), contact(2, "a", "p", 1)], [], { values: { email: "a" } });
    expect(plan.deleted).toEqual([1]);
    expect(shape(plan)).toEqual([[2]]);
    expect(plan.relink).toEqual([{ id: 2, linkedId: null, linkPrecedence: "primary" }]);
    expect(plan.events).toEqual([
      { kind: "erased", primaryContactId: 1, contactIds: [1], previousPrimaryContactId: 1 },
      { kind: "split", primaryContactId: 2, contactIds: [2], previousPrimaryContactId: 1 },
    ]);
  });

  it("keeps a bridged merge when an unrelated value goes, and splits it when a value it relied on goes", () => {
    // george {g, 919} merged with biff {b, 717} by a request {g, 717}: bridge george(email) - biff(phone).
    const rows = [contact(4, "g", "919"), contact(5, "b", "717", 4)];
    const bridges = [bridge(9, 4, 5)];
    const unrelated = planErasure(rows, bridges, { values: { phoneNumber: "919" } });
    expect(shape(unrelated)).toEqual([[4, 5]]);
    expect(unrelated.removedBridges).toEqual([]);

    const relied = planErasure(rows, bridges, { values: { email: "g" } });
    expect(shape(relied)).toEqual([[4], [5]]);
    expect(relied.removedBridges).toEqual([9]);
    expect(planErasure(rows, bridges, { values: { phoneNumber: "717" } }).removedBridges).toEqual([9]);
  });

  it("deletes every row of an erased cluster, soft-deleted ones too, with every bridge of it", () => {
    const rows = [contact(1, "a", "p"), contact(2, "b", "q", 1), { ...contact(3, "c", null, 1), deletedAt: minute(9) }];
    const plan = planErasure(rows, [bridge(7, 1, 2)], { cluster: 2 });
    expect(plan).toMatchObject({ deleted: [1, 2, 3], removedBridges: [7], clusters: [], relink: [] });
    expect(plan.events).toEqual([
      { kind: "erased", primaryContactId: 1, contactIds: [1, 2, 3], previousPrimaryContactId: 1 },
    ]);
  });

  it("never leaves a row pointing at a deleted contact", () => {
    // A soft-deleted row linked to the primary about to be deleted stands alone.
    const rows = [
      contact(1, "a", null),
      { ...contact(2, "z", null, 1), deletedAt: minute(9) },
      contact(3, "a", "p", 1),
    ];
    const plan = planErasure(rows, [], { values: { email: "a" } });
    expect(plan.deleted).toEqual([1]);
    expect(plan.relink).toEqual(
      expect.arrayContaining([
        { id: 3, linkedId: null, linkPrecedence: "primary" },
        { id: 2, linkedId: null, linkPrecedence: "primary" },
      ]),
    );
  });

  describe("legacy bridges (merges recorded before bridges existed)", () => {
    // A legacy cluster: 1{a,p} 2{b,q} 3{c,r}, merged by requests that left no trace, tied to 1.
    const rows = [contact(1, "a", "p"), contact(2, "b", "q", 1), contact(3, "c", "r", 1)];
    const legacy = [bridge(1, 1, 2, "legacy"), bridge(2, 1, 3, "legacy")];

    it("keep the cluster together whatever value is erased", () => {
      const plan = planErasure(rows, legacy, { values: { email: "a" } });
      expect(shape(plan)).toEqual([[1, 2, 3]]);
      expect(plan.removedBridges).toEqual([]);
    });

    it("keep the survivors tied when the contact they were tied to is deleted", () => {
      const withoutOne = [contact(1, "a", null), contact(2, "b", "q", 1), contact(3, "c", "r", 1)];
      const plan = planErasure(withoutOne, legacy, { values: { email: "a" } });
      expect(plan.deleted).toEqual([1]);
      expect(shape(plan)).toEqual([[2, 3]]);
      expect(plan.removedBridges).toEqual([1, 2]);
      expect(plan.addedBridges).toEqual([{ emailContactId: 2, phoneContactId: 3 }]);
    });
  });
});

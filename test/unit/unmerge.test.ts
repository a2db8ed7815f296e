import { describe, expect, it } from "vitest";
import type { StoredBridge } from "../../src/domain/graph";
import { planUnmerge } from "../../src/domain/unmerge";
import { minute, row } from "./rows";

const stored = (id: number, email: string | null, phoneNumber: string | null, linkedId: number | null) => ({
  ...row(id, email, phoneNumber, linkedId),
  deletedAt: null,
});
const bridge = (id: number, from: number, to: number, kind: StoredBridge["kind"] = "request"): StoredBridge => ({
  id,
  kind,
  emailContactId: from,
  phoneContactId: to,
  createdAt: minute(50 + id),
  requestId: kind === "legacy" ? null : `req-${id}`,
});

describe("planUnmerge", () => {
  // 1 {a, p} - 2 {b, p} share p; 3 {c, q} bridged from 1 (email a) to 3 (phone q).
  const rows = [stored(1, "a", "p", null), stored(2, "b", "p", 1), stored(3, "c", "q", 1)];

  it("splits at a request bridge: unmerged events, the bridge removed, a separation", () => {
    const planned = planUnmerge(rows, [bridge(9, 1, 3)], 2, 9);
    expect(planned.kind).toBe("split");
    if (planned.kind !== "split") return;
    expect(planned.plan.clusters.map((cluster) => cluster.map((r) => r.id))).toEqual([[1, 2], [3]]);
    expect(planned.plan).toMatchObject({
      relink: [{ id: 3, linkedId: null, linkPrecedence: "primary" }],
      removedBridges: [9],
      separate: [1, 3],
      events: [
        { kind: "unmerged", primaryContactId: 1, contactIds: [1, 2], bridgeId: 9 },
        { kind: "unmerged", primaryContactId: 3, contactIds: [3], bridgeId: 9 },
      ],
    });
  });

  it("answers no_contact, no_bridge, and still_linked with the chain that remains", () => {
    expect(planUnmerge(rows, [bridge(9, 1, 3)], 99, 9).kind).toBe("no_contact");
    expect(planUnmerge(rows, [bridge(9, 1, 3)], 2, 8).kind).toBe("no_bridge");
    expect(planUnmerge(rows, [bridge(9, 1, 77)], 2, 9).kind).toBe("no_bridge");
    expect(planUnmerge(rows, [bridge(9, 1, 3), bridge(10, 2, 3)], 1, 9)).toEqual({
      kind: "still_linked",
      path: [
        { from: 1, to: 2, via: "phoneNumber", value: "p" },
        { from: 2, to: 3, via: "bridge", bridgeId: 10, at: minute(60), requestId: "req-10" },
      ],
    });
  });

  it("cuts a legacy member's whole group from the anchor, whose other members have legacy ties of their own", () => {
    // As migration 0002 left it: 1 the anchor; 2 and 3 share a phone, each tied to 1; 4 tied to 1.
    const legacy = [
      stored(1, "a", null, null),
      stored(2, "b", "p", 1),
      stored(3, "c", "p", 1),
      stored(4, "d", null, 1),
    ];
    const ties = [bridge(5, 1, 2, "legacy"), bridge(6, 1, 3, "legacy"), bridge(7, 1, 4, "legacy")];
    const planned = planUnmerge(legacy, ties, 1, 5);
    expect(planned.kind).toBe("split");
    if (planned.kind !== "split") return;
    expect(planned.plan.clusters.map((cluster) => cluster.map((r) => r.id))).toEqual([
      [1, 4],
      [2, 3],
    ]);
    expect(planned.plan.removedBridges).toEqual([5, 6]);
    expect(planned.plan.separate).toEqual([1, 2]);
  });
});

import { describe, expect, it } from "vitest";
import type { ContactRow } from "../../src/domain/contact";
import type { ClusterLimits } from "../../src/domain/limits";
import { buildIdentifyResponse, planReconciliation } from "../../src/domain/reconcile";

const LIMITS: ClusterLimits = { emails: 50, phones: 50 };

const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, "0")}:00.000Z`;
const primary = (id: number, minute: number, email: string | null, phoneNumber: string | null): ContactRow => ({
  id,
  email,
  phoneNumber,
  linkedId: null,
  linkPrecedence: "primary",
  createdAt: at(minute),
});
const secondary = (
  id: number,
  minute: number,
  linkedId: number,
  email: string | null,
  phoneNumber: string | null,
): ContactRow => ({
  id,
  email,
  phoneNumber,
  linkedId,
  linkPrecedence: "secondary",
  createdAt: at(minute),
});

describe("planReconciliation", () => {
  it("creates a primary with both fields when nothing matches", () => {
    expect(planReconciliation([], { email: "a@x.io", phoneNumber: "123" }, LIMITS)).toEqual({
      outcome: "created",
      primaryId: null,
      promote: false,
      absorb: [],
      insert: { email: "a@x.io", phoneNumber: "123", linkPrecedence: "primary", linkedId: null },
      bridge: false,
      answerRoot: null,
      ignored: [],
      growth: null,
    });
    expect(planReconciliation([], { phoneNumber: "123" }, LIMITS).insert).toMatchObject({
      email: null,
      phoneNumber: "123",
    });
  });

  it("inserts a secondary with both request fields when one of them is new", () => {
    const rows = [primary(1, 0, "a@x.io", "123")];
    expect(planReconciliation(rows, { email: "b@x.io", phoneNumber: "123" }, LIMITS)).toEqual({
      outcome: "linked",
      primaryId: 1,
      promote: false,
      absorb: [],
      insert: { email: "b@x.io", phoneNumber: "123", linkPrecedence: "secondary", linkedId: 1 },
      bridge: false,
      answerRoot: 1,
      ignored: [],
      growth: { emails: 1, phones: 0, contacts: 1 },
    });
  });

  it("changes nothing for a request that only repeats known identifiers", () => {
    const rows = [primary(1, 0, "a@x.io", "123"), secondary(2, 1, 1, "b@x.io", "456")];
    for (const who of [{ email: "a@x.io" }, { phoneNumber: "456" }, { email: "b@x.io", phoneNumber: "123" }]) {
      expect(planReconciliation(rows, who, LIMITS)).toMatchObject({ outcome: "unchanged", absorb: [], insert: null });
    }
  });

  it("keeps the oldest primary and folds the other cluster under it, with no row for known identifiers", () => {
    const rows = [
      primary(1, 0, "a@x.io", "111"),
      secondary(3, 2, 1, "c@x.io", "111"),
      primary(2, 1, "b@x.io", "222"),
      secondary(4, 3, 2, "d@x.io", "222"),
    ];
    expect(planReconciliation(rows, { email: "a@x.io", phoneNumber: "222" }, LIMITS)).toEqual({
      outcome: "merged",
      primaryId: 1,
      promote: false,
      absorb: [2],
      insert: null,
      bridge: true,
      answerRoot: 1,
      ignored: [],
      growth: { emails: 0, phones: 0, contacts: 0 },
    });
    // With a new identifier the stored row holds both values: the link needs no bridge.
    expect(planReconciliation(rows, { email: "new@x.io", phoneNumber: "222" }, LIMITS)).toMatchObject({
      bridge: false,
    });
    expect(planReconciliation(rows, { email: "a@x.io", phoneNumber: "999" }, LIMITS)).toMatchObject({ bridge: false });
    expect(
      planReconciliation(
        [rows[0], rows[1], primary(5, 4, "e@x.io", "555")].filter((row) => row !== undefined),
        {
          email: "e@x.io",
          phoneNumber: "111",
        },
        LIMITS,
      ),
    ).toMatchObject({ outcome: "merged", absorb: [5], bridge: true });
  });

  it("decides age by createdAt before id", () => {
    const rows = [primary(5, 0, "old@x.io", null), primary(2, 9, "young@x.io", "999")];
    expect(planReconciliation(rows, { email: "old@x.io", phoneNumber: "999" }, LIMITS)).toMatchObject({
      primaryId: 5,
      absorb: [2],
    });
  });

  it("promotes the oldest live contact when the primary is gone", () => {
    const rows = [secondary(2, 1, 1, "a@x.io", "222"), secondary(3, 2, 1, "a@x.io", "333")];
    expect(planReconciliation(rows, { phoneNumber: "333" }, LIMITS)).toEqual({
      outcome: "merged",
      primaryId: 2,
      promote: true,
      absorb: [1],
      insert: null,
      bridge: false,
      answerRoot: 2,
      ignored: [],
      growth: { emails: 0, phones: 0, contacts: 0 },
    });
  });
});

describe("buildIdentifyResponse", () => {
  it("puts the primary's values first, then others in creation order, each once", () => {
    const rows = [
      secondary(4, 3, 1, "b@x.io", "111"),
      primary(1, 0, "a@x.io", null),
      secondary(2, 1, 1, null, "111"),
      secondary(3, 2, 1, "b@x.io", "222"),
    ];
    expect(buildIdentifyResponse(rows, LIMITS)).toEqual({
      primaryContactId: 1,
      emails: ["a@x.io", "b@x.io"],
      phoneNumbers: ["111", "222"],
      secondaryContactIds: [2, 3, 4],
    });
  });

  it("refuses an empty cluster", () => {
    expect(() => buildIdentifyResponse([], LIMITS)).toThrow();
  });
});

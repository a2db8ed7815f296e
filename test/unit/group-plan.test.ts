import { describe, expect, it } from "vitest";
import type { ContactRow } from "../../src/domain/contact";
import { applyPlan, planReconciliation } from "../../src/domain/reconcile";
import { coveredBy, fitsGroup, needsPendingId, pendingInsert, withPending } from "../../src/durable/group-plan";

const LIMITS = { emails: 50, phones: 50 };
const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, "0")}:00.000Z`;
const row = (
  id: number,
  email: string | null,
  phoneNumber: string | null,
  linkedId: number | null = null,
): ContactRow => ({
  id,
  email,
  phoneNumber,
  linkedId,
  linkPrecedence: linkedId === null ? "primary" : "secondary",
  createdAt: at(id),
});

describe("coveredBy", () => {
  const a = [row(1, "a@x.io", "100"), row(2, "b@x.io", "100", 1)];
  const other = [row(3, "c@x.io", "300")];

  it("answers the newest recent cluster holding every row the caller read", () => {
    const older = [row(1, "a@x.io", "100")];
    expect(coveredBy([older, a, other], [row(1, "a@x.io", "100")], { email: "a@x.io" })).toBe(a);
  });

  it("needs a fresh read when no recent cluster holds the caller's rows", () => {
    expect(coveredBy([other], [row(1, "a@x.io", "100")], { email: "a@x.io" })).toBeNull();
  });

  it("gives a caller that read nothing a recent cluster only if it holds the request's values", () => {
    expect(coveredBy([a, other], [], { phoneNumber: "100" })).toBe(a);
    // Another new customer's commit must never answer this one.
    expect(coveredBy([a, other], [], { email: "new@x.io" })).toEqual([]);
  });
});

describe("withPending", () => {
  it("leaves the view alone when no plan of the group touches it", () => {
    const view = [row(5, "e@x.io", null)];
    const pending = new Map([[1, row(1, "a@x.io", "100")]]);
    expect(withPending(view, pending, { email: "e@x.io" })).toEqual({ rows: view, pending: false });
  });

  it("shows the group's earlier writes: a contact it inserts, and the rows of that cluster", () => {
    const stored = [row(1, "a@x.io", "100")];
    const first = planReconciliation(stored, { email: "b@x.io", phoneNumber: "100" }, LIMITS);
    const pending = new Map(applyPlan(stored, first, pendingInsert(1)).map((r) => [r.id, r]));
    // A second call for b@x.io read nothing (b was not stored yet): it must plan on the cluster.
    const next = withPending([], pending, { email: "b@x.io" });
    expect(next.pending).toBe(true);
    expect(next.rows.map((r) => r.id).sort()).toEqual([-1, 1]);
    const second = planReconciliation(next.rows, { email: "b@x.io", phoneNumber: "200" }, LIMITS);
    expect(second.primaryId).toBe(1);
    expect(needsPendingId(second)).toBe(false);
  });
});

describe("needsPendingId", () => {
  it("holds a plan back that links to a contact the group has not inserted yet", () => {
    const rows = [{ ...row(-1, "a@x.io", null), createdAt: pendingInsert(1).createdAt }];
    const plan = planReconciliation(rows, { email: "a@x.io", phoneNumber: "100" }, LIMITS);
    expect(plan.primaryId).toBe(-1);
    expect(needsPendingId(plan)).toBe(true);
  });
});

describe("fitsGroup", () => {
  it("always takes a group's first commit, then stops at 50 statements or 64 KiB", () => {
    expect(fitsGroup({ statements: 0, bytes: 0 }, { statements: 80, bytes: 1 }, true)).toBe(true);
    expect(fitsGroup({ statements: 45, bytes: 0 }, { statements: 5, bytes: 1 }, false)).toBe(true);
    expect(fitsGroup({ statements: 46, bytes: 0 }, { statements: 5, bytes: 1 }, false)).toBe(false);
    expect(fitsGroup({ statements: 1, bytes: 60_000 }, { statements: 1, bytes: 6_000 }, false)).toBe(false);
  });
});

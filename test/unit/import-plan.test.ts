import { describe, expect, it } from "vitest";
import { NumberColumn } from "../../tools/import/columns";
import { type OrderedRecord, PlannedEvents, planImport } from "../../tools/import/plan";

// The import's plan holds its rows by column; these check that a row read back is the row
// the planner made, past the columns' first growth, and the links of a merge.

const LIMITS = { emails: 50, phones: 50 };
const T0 = Date.UTC(2024, 0, 1);
const minute = (m: number) => T0 + m * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("NumberColumn", () => {
  it("keeps every value as it grows past its first capacity", () => {
    const column = new NumberColumn(Int32Array);
    for (let i = 0; i < 5000; i++) column.push(i * 3);
    expect(column.length).toBe(5000);
    expect([column.get(0), column.get(1023), column.get(1024), column.get(4999)]).toEqual([0, 3069, 3072, 14997]);
    column.set(4999, -7);
    expect(column.get(4999)).toBe(-7);
  });

  it("refuses to set a value past its end, and lets go of everything on clear", () => {
    const column = new NumberColumn(Float64Array);
    column.push(1.5);
    expect(() => column.set(1, 2)).toThrow(RangeError);
    column.clear();
    expect(column.length).toBe(0);
    expect(column.get(0)).toBe(0);
  });
});

describe("planImport's rows", () => {
  // Two customers, then an order joining them; then enough strangers to grow every column.
  const records: OrderedRecord[] = [
    { line: 2, who: { email: "a@shop.example", phoneNumber: "+441" }, at: minute(0), ignored: [] },
    { line: 3, who: { email: "b@shop.example", phoneNumber: "+442" }, at: minute(1), ignored: [] },
    { line: 4, who: { email: "a@shop.example", phoneNumber: "+442" }, at: minute(2), ignored: [] },
    { line: 5, who: { email: "c@shop.example", phoneNumber: "+442" }, at: minute(3), ignored: [] },
  ];
  for (let i = 0; i < 1500; i++) {
    records.push({ line: 6 + i, who: { email: `s${i}@shop.example` }, at: minute(10 + i), ignored: [] });
  }
  const plan = planImport(records, LIMITS);

  it("reads back each contact as made, a merged primary as a secondary changed at the merge", () => {
    expect(plan.contacts.length).toBe(3 + 1500);
    expect(plan.contacts.row(1)).toEqual({
      id: 1,
      email: "a@shop.example",
      phoneNumber: "+441",
      linkedId: null,
      linkPrecedence: "primary",
      createdAt: iso(minute(0)),
      updatedAt: iso(minute(0)),
    });
    expect(plan.contacts.row(2)).toMatchObject({
      linkedId: 1,
      linkPrecedence: "secondary",
      createdAt: iso(minute(1)),
      updatedAt: iso(minute(2)),
    });
    // c@ joins the merged cluster under its primary.
    expect(plan.contacts.row(3)).toMatchObject({ email: "c@shop.example", linkedId: 1, createdAt: iso(minute(3)) });
    expect(plan.contacts.row(1503)).toMatchObject({ email: "s1499@shop.example", linkedId: null });
    expect(() => plan.contacts.row(1504)).toThrow(/no contact 1504/);
  });

  it("reads back the merge's bridge and events with the line that made them", () => {
    expect(plan.bridges.length).toBe(1);
    expect(plan.bridges.row(1)).toEqual({
      id: 1,
      emailContactId: 1,
      phoneContactId: 2,
      createdAt: iso(minute(2)),
      line: 4,
    });
    expect(plan.events.length).toBe(2 + 1 + 1 + 1500);
    expect(plan.events.row(3)).toEqual({
      id: 3,
      at: iso(minute(2)),
      kind: "merged",
      primaryContactId: 1,
      contactIds: [2],
      bridgeId: 1,
      line: 4,
    });
    expect(plan.events.row(4)).toEqual({
      id: 4,
      at: iso(minute(3)),
      kind: "linked",
      primaryContactId: 1,
      contactIds: [3],
      bridgeId: null,
      line: 5,
    });
    expect(plan.events.row(1504)).toMatchObject({ kind: "created", contactIds: [1503], line: 1505 });
    expect(plan.counts).toMatchObject({ applied: 1504, contactsCreated: 1503, merges: 1 });
  });

  it("keeps an event naming several contacts whole", () => {
    const events = new PlannedEvents();
    const id = events.add({ kind: "merged", primaryContactId: 1, contactIds: [4, 7, 9], bridgeId: null, line: 12 }, T0);
    expect(events.row(id)).toMatchObject({ contactIds: [4, 7, 9], bridgeId: null, line: 12 });
    expect(() =>
      events.add({ kind: "created", primaryContactId: 1, contactIds: [], bridgeId: null, line: 13 }, T0),
    ).toThrow(/at least one contact/);
  });
});

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/contract/cursor";
import { type EventRow, EventSchema, serializeEvent } from "../../src/contract/events";

const row = (fields: Partial<EventRow> & Pick<EventRow, "kind">): EventRow => ({
  id: 41,
  at: "2026-01-02T03:04:05.678Z",
  primaryContactId: 3,
  contactIds: "[5,8]",
  previousPrimaryContactId: null,
  requestId: "req-1",
  bridgeId: null,
  ...fields,
});

describe("serializeEvent", () => {
  it("gives every kind the common fields, its cursor as id, and only its own extra field", () => {
    const common = {
      id: encodeCursor(41),
      at: "2026-01-02T03:04:05.678Z",
      primaryContactId: 3,
      contactIds: [5, 8],
      requestId: "req-1",
    };
    expect(serializeEvent(row({ kind: "created", bridgeId: 9, previousPrimaryContactId: 2 }))).toEqual({
      ...common,
      kind: "created",
    });
    expect(serializeEvent(row({ kind: "linked" }))).toEqual({ ...common, kind: "linked" });
    expect(serializeEvent(row({ kind: "merged", bridgeId: 9 }))).toEqual({ ...common, kind: "merged", bridgeId: 9 });
    expect(serializeEvent(row({ kind: "merged" }))).toEqual({ ...common, kind: "merged", bridgeId: null });
    expect(serializeEvent(row({ kind: "unmerged", bridgeId: 4 }))).toEqual({
      ...common,
      kind: "unmerged",
      bridgeId: 4,
    });
    expect(serializeEvent(row({ kind: "split", previousPrimaryContactId: 2 }))).toEqual({
      ...common,
      kind: "split",
      previousPrimaryContactId: 2,
    });
    expect(serializeEvent(row({ kind: "erased", previousPrimaryContactId: 3 }))).toEqual({
      ...common,
      kind: "erased",
      previousPrimaryContactId: 3,
    });
  });

  it("names an erased row's former primary from primaryContactId when the row predates that column's use", () => {
    expect(serializeEvent(row({ kind: "erased" }))).toMatchObject({ previousPrimaryContactId: 3 });
  });

  it("keeps the API's field order", () => {
    expect(Object.keys(serializeEvent(row({ kind: "merged", bridgeId: 1 })))).toEqual([
      "id",
      "at",
      "kind",
      "primaryContactId",
      "contactIds",
      "requestId",
      "bridgeId",
    ]);
  });

  it("answers what the event schema (and so the OpenAPI document) describes, for every kind", () => {
    for (const kind of ["created", "linked", "merged", "split", "unmerged", "erased"] as const) {
      const event = serializeEvent(row({ kind, bridgeId: 2, previousPrimaryContactId: 1 }));
      expect(v.safeParse(EventSchema, event).success, kind).toBe(true);
    }
    const stray = { ...serializeEvent(row({ kind: "created" })), bridgeId: 2 };
    expect(v.safeParse(EventSchema, stray).success).toBe(false);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/contract/cursor";

describe("feed cursor", () => {
  it("is the unpadded base64url of v1:<id>", () => {
    expect(encodeCursor(0)).toBe("djE6MA");
    expect(atob("djE6MA")).toBe("v1:0");
    expect(encodeCursor(1234)).toBe(btoa("v1:1234").replace(/=+$/, ""));
    expect(encodeCursor(Number.MAX_SAFE_INTEGER)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("round-trips every event id, and orders nothing by its text (it is opaque)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (id) => {
        expect(decodeCursor(encodeCursor(id))).toBe(id);
      }),
    );
  });

  it("refuses to encode what is not an event id", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => encodeCursor(bad)).toThrow(RangeError);
    }
  });

  it("decodes only the exact spelling it writes", () => {
    const b64url = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    for (const bad of [
      "",
      "12",
      "not a cursor",
      `${encodeCursor(7)}=`, // padded
      `${encodeCursor(7)}==`,
      btoa("v1:7"), // standard base64 with padding
      b64url("v1:"),
      b64url("v1:-3"),
      b64url("v1:07"), // a leading zero: another spelling of 7
      b64url("v1:1.5"),
      b64url("v2:7"),
      b64url("v1:7 "),
      b64url("v1:99999999999999999"), // past 2^53
      "djE6MA+", // standard base64's alphabet
      "a".repeat(200),
      "*",
    ]) {
      expect(decodeCursor(bad), bad).toBeUndefined();
    }
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const id = decodeCursor(text);
        if (id !== undefined) expect(encodeCursor(id)).toBe(text);
      }),
    );
  });
});

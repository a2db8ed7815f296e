import { describe, expect, it } from "vitest";
import { jsonDepth } from "../../src/http/body";

describe("jsonDepth", () => {
  it("counts nesting of arrays and objects", () => {
    expect(jsonDepth("1")).toBe(0);
    expect(jsonDepth('{"a":1}')).toBe(1);
    expect(jsonDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth("[".repeat(10_000))).toBe(10_000);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(jsonDepth('{"a":"\\"[[[","b":"\\\\"}')).toBe(1);
    expect(jsonDepth('["\\\\",[[]]]')).toBe(3);
  });
});

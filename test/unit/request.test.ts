import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { IdentifyRequestSchema } from "../../src/domain/request";

const parse = (input: unknown) => v.safeParse(IdentifyRequestSchema, input);
const accepted = (input: unknown) => {
  const result = parse(input);
  if (!result.success) throw new Error(`rejected: ${JSON.stringify(result.issues.map((i) => i.message))}`);
  return result.output;
};
const rejectionPaths = (input: unknown) => {
  const result = parse(input);
  expect(result.success).toBe(false);
  return result.issues?.map((issue) => v.getDotPath(issue) ?? "") ?? [];
};

describe("IdentifyRequestSchema", () => {
  it("trims and lower-cases the email", () => {
    expect(accepted({ email: "  Foo@Bar.COM\t" })).toEqual({ email: "foo@bar.com" });
  });

  it("strips phone separators and keeps one leading +", () => {
    expect(accepted({ phoneNumber: "+91 99999-99999" })).toEqual({ phoneNumber: "+919999999999" });
    expect(accepted({ phoneNumber: "(020) 7946.0958" })).toEqual({ phoneNumber: "02079460958" });
    expect(accepted({ phoneNumber: " 123456 " })).toEqual({ phoneNumber: "123456" });
  });

  it("accepts whole-number phones and renders them as digits", () => {
    expect(accepted({ phoneNumber: 919999999999 })).toEqual({ phoneNumber: "919999999999" });
    expect(accepted({ phoneNumber: 123 })).toEqual({ phoneNumber: "123" });
  });

  it("treats null, absent, empty and whitespace-only values as absent", () => {
    expect(accepted({ email: "a@b.co", phoneNumber: null })).toEqual({ email: "a@b.co" });
    expect(accepted({ email: "   ", phoneNumber: "555 0100" })).toEqual({ phoneNumber: "5550100" });
    expect(accepted({ email: null, phoneNumber: "123456" })).toEqual({ phoneNumber: "123456" });
  });

  it("ignores unknown fields", () => {
    expect(accepted({ email: "a@b.co", name: "Doc", extra: { deep: true } })).toEqual({ email: "a@b.co" });
  });

  it("requires at least one identifier after normalisation", () => {
    for (const body of [{}, { email: null }, { email: "", phoneNumber: "  " }, { phoneNumber: null, email: null }]) {
      expect(parse(body).success).toBe(false);
    }
  });

  it("rejects bodies that are not objects", () => {
    for (const body of [null, [], "a@b.co", 42, true]) expect(parse(body).success).toBe(false);
  });

  it("rejects wrong types with the field's path", () => {
    expect(rejectionPaths({ email: 5 })).toContain("email");
    expect(rejectionPaths({ email: ["a@b.co"] })).toContain("email");
    expect(rejectionPaths({ phoneNumber: true })).toContain("phoneNumber");
    expect(rejectionPaths({ phoneNumber: { n: 1 } })).toContain("phoneNumber");
  });

  it("rejects invalid and over-long emails", () => {
    expect(rejectionPaths({ email: "not-an-email" })).toContain("email");
    expect(rejectionPaths({ email: "a@b" })).toContain("email");
    expect(rejectionPaths({ email: `${"a".repeat(250)}@b.co` })).toContain("email");
    expect(parse({ email: `${"a".repeat(64)}@${"b".repeat(60)}.com` }).success).toBe(true);
  });

  it("rejects phones out of shape", () => {
    for (const phoneNumber of [
      "12",
      "+1",
      "1".repeat(21),
      `+${"1".repeat(20)}`,
      "12a456",
      "++123456",
      "123+456",
      "12\u0000345",
      1.5,
      -123456,
      2 ** 53,
    ]) {
      expect(rejectionPaths({ phoneNumber }), String(phoneNumber)).toContain("phoneNumber");
    }
    expect(accepted({ phoneNumber: `+${"1".repeat(19)}` })).toEqual({ phoneNumber: `+${"1".repeat(19)}` });
    expect(accepted({ phoneNumber: "1".repeat(20) })).toEqual({ phoneNumber: "1".repeat(20) });
  });
});

import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { IdentifyRequestSchema } from "../../src/domain/normalise";

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

describe("internationalised email addresses (RFC 6531)", () => {
  const STORED = "ünïcödé@xn--bcher-kva.de";

  it("stores a Unicode domain in its ASCII (xn--) form and keeps a UTF-8 local part", () => {
    expect(accepted({ email: "ünïcödé@bücher.de", phoneNumber: "+4930123456" })).toEqual({
      email: STORED,
      phoneNumber: "+4930123456",
    });
  });

  it("gives every spelling of one address the same stored form", () => {
    for (const spelling of [
      "ünïcödé@bücher.de",
      "ÜNÏCÖDÉ@BÜCHER.DE",
      "ünïcödé@xn--bcher-kva.de",
      "ÜnÏcÖdÉ@XN--BCHER-KVA.DE",
      "u\u0308ni\u0308co\u0308de\u0301@bu\u0308cher.de", // decomposed accents
      " ünïcödé@Bücher.De ",
    ]) {
      expect(accepted({ email: spelling }), spelling).toEqual({ email: STORED });
    }
  });

  it("accepts scripts other than Latin, and an IDN top-level domain", () => {
    expect(accepted({ email: "用户@例子.广告" })).toEqual({ email: "用户@xn--fsqu00a.xn--4rr70v" });
    expect(accepted({ email: "почта@пример.рф" })).toEqual({ email: "почта@xn--e1afmkfd.xn--p1ai" });
    expect(accepted({ email: "o'brien@x.io" })).toEqual({ email: "o'brien@x.io" });
  });

  it("refuses what is no address in any script", () => {
    for (const email of [
      "ünïcödé@bücher", // one label
      "a@xn--zz.de", // invalid punycode
      "a@xn--abc.de", // decodes to ASCII: not an A-label
      "a@xn--bcher-kva-.de",
      "a@b%C3%BCcher.de", // percent-encoding is not a host name
      "a b@x.io",
      "a@x..io",
      "a..b@x.io",
      ".a@x.io",
      "a@-x.io",
      "a@1.2.3.4",
      "a@x.123",
      '"quoted"@x.io',
      "a@x.io@y.io",
      "😀@x.io",
      `${"ü".repeat(33)}@x.io`, // 66 octets: over the 64 of a local part
    ]) {
      expect(rejectionPaths({ email }), email).toContain("email");
    }
  });
});

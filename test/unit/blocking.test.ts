import { describe, expect, it } from "vitest";
import {
  BlockListError,
  blockingRule,
  ignoredHeader,
  parseBlockList,
  screenIdentifiers,
} from "../../src/domain/blocking";
import { normaliseEmail, normalisePhone } from "../../src/domain/normalise";

const builtIn = parseBlockList("");
const phoneRule = (phone: string, list = builtIn) =>
  blockingRule(list, "phoneNumber", normalisePhone(phone) ?? `unparsable ${phone}`);
const emailRule = (email: string, list = builtIn) =>
  blockingRule(list, "email", normaliseEmail(email) ?? `unparsable ${email}`);

describe("built-in rules", () => {
  it.each([
    ["000000", "phone_repeated_digit"],
    ["0000000000", "phone_repeated_digit"],
    ["+1111111111", "phone_repeated_digit"],
    ["999-999-9999", "phone_repeated_digit"],
    ["555-555-5555", "phone_repeated_digit"],
    ["12345678", "phone_digit_run"],
    ["1234567890", "phone_digit_run"],
    ["0123456789", "phone_digit_run"],
    ["9876543210", "phone_digit_run"],
    ["+1 234 567 8901", "phone_digit_run"],
    ["87654321", "phone_digit_run"],
    ["555-1212", "phone_placeholder"],
    ["867-5309", "phone_placeholder"],
    ["+1 (212) 555-0123", "phone_fictional_nanp"],
    ["+1 415 555 0199", "phone_fictional_nanp"],
  ])("blocks the phone %s by %s", (phone, rule) => {
    expect(phoneRule(phone)).toBe(rule);
  });

  it.each([
    ["noreply@shop.com", "email_no_reply"],
    ["No-Reply@Mail.Example.org", "email_no_reply"],
    ["donotreply@x.io", "email_no_reply"],
    ["do-not-reply@bank.test", "email_no_reply"],
    ["test@test.com", "email_placeholder"],
    ["none@none.com", "email_placeholder"],
    ["null@null.com", "email_placeholder"],
    ["noemail@noemail.com", "email_placeholder"],
    ["EMAIL@email.com", "email_placeholder"],
    ["na@na.com", "email_placeholder"],
  ])("blocks the email %s by %s", (email, rule) => {
    expect(emailRule(email)).toBe(rule);
  });

  it.each([
    "123456", // the public task's example phone
    "1000000000",
    "+919999999999",
    "717171",
    "00000", // repeated, but 5 digits
    "1234567", // a run of 7
    "12345679",
    "98765431",
    "+4930123456",
    "+1 212 555 0200", // outside 555-0100..0199
    "2125550123", // no +1: not known to be North American
    "+15551212",
  ])("lets the phone %s through", (phone) => {
    expect(phoneRule(phone)).toBeUndefined();
  });

  it.each([
    "noreply.fan@x.com",
    "noreplyfan@x.com",
    "reply@x.com",
    "lorraine@hillvalley.edu",
    "mcfly@hillvalley.edu",
    "anyone@example.com",
    "test@example.com",
    "noreply@example.com".replace("noreply", "no.reply"),
    "customer@shop.test",
    "test@shop.test",
    "test@test.org",
    "none@email.com",
    "ünïcödé@bücher.de",
  ])("lets the email %s through", (email) => {
    expect(emailRule(email)).toBeUndefined();
  });
});

describe("BLOCKED_IDENTIFIERS", () => {
  it("adds exact values, normalised as requests are, and patterns per field", () => {
    const list = parseBlockList(
      JSON.stringify({
        email: { values: ["  Guest@Shop.EXAMPLE "], patterns: ["^qa\\+.*@shop\\.example$"] },
        phoneNumber: { values: ["+1 (415) 000-1111"], patterns: ["^\\+999"] },
      }),
    );
    expect(emailRule("guest@shop.example", list)).toBe("email.values");
    expect(emailRule("qa+run7@shop.example", list)).toBe("email.patterns[0]");
    expect(emailRule("guest2@shop.example", list)).toBeUndefined();
    expect(phoneRule("+14150001111", list)).toBe("phoneNumber.values");
    expect(phoneRule("+999 123", list)).toBe("phoneNumber.patterns[0]");
    expect(phoneRule("+998 123", list)).toBeUndefined();
    // The built-in rules stay on unless switched off.
    expect(phoneRule("0000000000", list)).toBe("phone_repeated_digit");
  });

  it("matches Unicode values and patterns in their stored form", () => {
    const list = parseBlockList(JSON.stringify({ email: { values: ["Kunde@BÜCHER.de"], patterns: ["^ö"] } }));
    expect(emailRule("kunde@xn--bcher-kva.de", list)).toBe("email.values");
    expect(emailRule("östlich@x.io", list)).toBe("email.patterns[0]");
  });

  it("switches every built-in rule off, or some by name", () => {
    const off = parseBlockList('{"builtIn": false}');
    expect(off.rules).toEqual([]);
    expect(phoneRule("0000000000", off)).toBeUndefined();
    expect(emailRule("noreply@shop.com", off)).toBeUndefined();

    const some = parseBlockList('{"disable": ["phone_digit_run", "email_placeholder"]}');
    expect(phoneRule("12345678", some)).toBeUndefined();
    expect(emailRule("test@test.com", some)).toBeUndefined();
    expect(phoneRule("0000000000", some)).toBe("phone_repeated_digit");
    expect(emailRule("noreply@shop.com", some)).toBe("email_no_reply");
  });

  it("treats empty and blank as the built-in rules only", () => {
    for (const text of [undefined, "", "  "]) expect(parseBlockList(text)).toEqual(builtIn);
  });

  it.each([
    ["not JSON", "{email:", "is not valid JSON"],
    ["not an object", "[]", "must be a JSON object"],
    ["an unknown key", '{"emails": {"values": []}}', "emails"],
    ["a misspelt field key", '{"email": {"value": ["a@b.co"]}}', "email.value"],
    ["builtIn not a boolean", '{"builtIn": "no"}', "builtIn"],
    ["an unknown rule to disable", '{"disable": ["phone_zeros"]}', "disable.0"],
    ["a value that is no email", '{"email": {"values": ["a@b.co", "not an email"]}}', "email.values[1]"],
    ["a value that is no phone", '{"phoneNumber": {"values": ["12"]}}', "phoneNumber.values[0]"],
    ["an invalid pattern", '{"email": {"patterns": ["(unclosed"]}}', "email.patterns[0] is not a valid regular"],
    ["a pattern matching everything", '{"phoneNumber": {"patterns": [".*"]}}', "matches the empty string"],
    ["an empty pattern", '{"phoneNumber": {"patterns": [""]}}', "phoneNumber.patterns[0] must be"],
    ["a too long pattern", JSON.stringify({ email: { patterns: ["a".repeat(201)] } }), "must be 1 to 200"],
    [
      "a catastrophic pattern (nested quantifiers)",
      JSON.stringify({ email: { patterns: ["^qa@", "^([a-z0-9]+\\.?)+@x\\.com$"] } }),
      "email.patterns[1] nests a quantifier inside a quantified group",
    ],
    ["a nested repetition", JSON.stringify({ phoneNumber: { patterns: ["^(\\d{2,})*9$"] } }), "nests a quantifier"],
    [
      "a pattern of over 25 quantifiers",
      JSON.stringify({ email: { patterns: ["^a?".concat("b?".repeat(25), "c$")] } }),
      "over 25 quantifiers",
    ],
  ])("refuses %s, saying what is wrong", (_, text, message) => {
    let error: unknown;
    try {
      parseBlockList(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BlockListError);
    expect(String(error)).toContain("BLOCKED_IDENTIFIERS");
    expect(String(error)).toContain(message);
  });

  it("never quotes a configured value in its error", () => {
    expect(() => parseBlockList('{"email": {"values": ["secret-value@"]}}')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("secret-value") }),
    );
  });
});

describe("screenIdentifiers", () => {
  it("drops blocked fields, keeps the rest, and names the rule", () => {
    expect(screenIdentifiers(builtIn, { email: "a@x.io", phoneNumber: "0000000000" })).toEqual({
      kept: { email: "a@x.io" },
      ignored: [{ field: "phoneNumber", reason: "blocked", rule: "phone_repeated_digit" }],
    });
    expect(screenIdentifiers(builtIn, { email: "a@x.io", phoneNumber: "123456" })).toEqual({
      kept: { email: "a@x.io", phoneNumber: "123456" },
      ignored: [],
    });
  });

  it("leaves nothing when every field is blocked", () => {
    const { kept, ignored } = screenIdentifiers(builtIn, { email: "test@test.com", phoneNumber: "12345678" });
    expect(kept).toBeUndefined();
    expect(ignoredHeader(ignored)).toBe("email=blocked, phoneNumber=blocked");
  });
});

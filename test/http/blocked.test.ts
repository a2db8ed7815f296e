import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import { callWith, identify, postIdentify, requestLogLine, storedRows, unique } from "../helpers";

type ErrorBody = { error: { code: string; message: string } };

let log: MockInstance<typeof console.log>;
beforeEach(() => {
  log = vi.spyOn(console, "log");
});
afterEach(() => {
  vi.restoreAllMocks();
});

const logLine = (res: Response) => requestLogLine(log, res);

const post = (body: unknown, overrides: Partial<Env> = {}) =>
  callWith(overrides, "/identify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("blocked identifiers", () => {
  it("three strangers who typed 0000000000 stay three customers, and the placeholder answers nobody", async () => {
    const emails = [unique("a"), unique("b"), unique("c")].map((local) => `${local}@shop.io`);
    const answers: IdentifyResponse[] = [];
    for (const email of emails) {
      const res = await postIdentify({ email, phoneNumber: "000-000-0000" });
      expect(res.status).toBe(200);
      expect(res.headers.get("identity-ignored")).toBe("phoneNumber=blocked");
      answers.push(await res.json<IdentifyResponse>());
    }
    expect(answers.map((answer) => answer.emails)).toEqual(emails.map((email) => [email]));
    expect(answers.map((answer) => answer.phoneNumbers)).toEqual([[], [], []]);
    expect(new Set(answers.map((answer) => answer.primaryContactId)).size).toBe(3);
    expect(await storedRows("phoneNumber = ?", "0000000000")).toEqual([]);

    const res = await postIdentify({ phoneNumber: "0000000000" });
    expect(res.status).toBe(422);
    expect(res.headers.get("identity-ignored")).toBe("phoneNumber=blocked");
    expect(await res.json()).toEqual({
      error: {
        code: "identifier_blocked",
        message: "Every identifier of the request is a blocked placeholder; nothing was stored.",
      },
    });
  });

  it("a blocked email beside a real phone: the phone is handled, the email neither stored nor matched", async () => {
    const phone = `+4470${String(Date.now()).slice(-8)}`;
    const res = await postIdentify({ email: "NoReply@Shop.io", phoneNumber: phone });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBe("email=blocked");
    const answer = await res.json<IdentifyResponse>();
    expect(answer).toMatchObject({ emails: [], phoneNumbers: [phone], secondaryContactIds: [] });
    expect(await storedRows("phoneNumber = ?", phone)).toMatchObject([{ email: null, linkPrecedence: "primary" }]);
    expect(await storedRows("email = ?", "noreply@shop.io")).toEqual([]);
  });

  it("refuses with 422 when every identifier is blocked, and writes nothing", async () => {
    const before = await storedRows();
    const res = await postIdentify({ email: "test@test.com", phoneNumber: "1234567890" });
    expect(res.status).toBe(422);
    expect(res.headers.get("identity-ignored")).toBe("email=blocked, phoneNumber=blocked");
    expect((await res.json<ErrorBody>()).error.code).toBe("identifier_blocked");
    expect(await storedRows()).toEqual(before);
  });

  it.each([["123456"], ["1000000000"]])("lets the near miss %s through and stores it", async (phone) => {
    const email = `${unique("near")}@x.io`;
    const res = await postIdentify({ email, phoneNumber: phone });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBeNull();
    expect(await storedRows("email = ?", email)).toMatchObject([{ phoneNumber: phone }]);
  });

  it.each([
    ["noreply.fan@x.com"],
    [`${unique("ex")}@example.com`],
    [`test@${unique("shop")}.test`],
    ["test@example.com"],
  ])("lets the near miss %s through and stores it", async (email) => {
    const res = await postIdentify({ email });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBeNull();
    expect((await storedRows("email = ?", email)).length).toBeGreaterThan(0);
  });

  it("logs which rule fired by its name, never the value", async () => {
    const email = `${unique("logged")}@x.io`;
    const res = await postIdentify({ email, phoneNumber: "+1 (415) 555-0142" });
    expect(res.status).toBe(200);
    const line = logLine(res);
    expect(line.ignored).toEqual(["phoneNumber=blocked:phone_fictional_nanp"]);
    expect(JSON.stringify(line)).not.toMatch(/4155550142|555-0142/);

    const refused = await postIdentify({ phoneNumber: "99999999" });
    expect(refused.status).toBe(422);
    expect(logLine(refused)).toMatchObject({
      status: 422,
      outcome: "identifier_blocked",
      ignored: ["phoneNumber=blocked:phone_repeated_digit"],
    });
    expect(JSON.stringify(logLine(refused))).not.toContain("99999999");
  });
});

describe("internationalised addresses", () => {
  it("accepts a Unicode address beside a phone, and one stored form for every spelling", async () => {
    const local = `ünïcödé${unique("")}`;
    const phone = `+4930${String(Date.now()).slice(-6)}`;
    const stored = `${local}@xn--bcher-kva.de`;
    const first = await identify({ email: `${local}@bücher.de`, phoneNumber: phone });
    expect(first).toMatchObject({ emails: [stored], phoneNumbers: [phone], secondaryContactIds: [] });
    for (const spelling of [
      `${local.toUpperCase()}@BÜCHER.DE`,
      `${local}@xn--bcher-kva.de`,
      `${local}@XN--Bcher-KVA.de`,
    ]) {
      expect(await identify({ email: spelling }), spelling).toEqual(first);
    }
    expect(await storedRows("email = ?", stored)).toHaveLength(1);
  });

  it("accepts the issue's example as it is", async () => {
    const res = await postIdentify({ email: "ünïcödé@bücher.de", phoneNumber: "+4930123456" });
    expect(res.status).toBe(200);
    const answer = await res.json<IdentifyResponse>();
    expect(answer.emails).toContain("ünïcödé@xn--bcher-kva.de");
    expect(answer.phoneNumbers).toContain("+4930123456");
  });
});

describe("BLOCKED_IDENTIFIERS", () => {
  it("blocks an operator's values and patterns, per field", async () => {
    const config = JSON.stringify({
      email: { values: ["guest@shop.example"], patterns: ["^qa\\+.*@shop\\.example$"] },
      phoneNumber: { values: ["+1 415 000 1111"] },
    });
    const phone = `+4471${String(Date.now()).slice(-8)}`;
    const res = await post({ email: "qa+run42@shop.example", phoneNumber: phone }, { BLOCKED_IDENTIFIERS: config });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBe("email=blocked");
    expect(logLine(res).ignored).toEqual(["email=blocked:email.patterns[0]"]);

    const refused = await post(
      { email: "Guest@Shop.Example", phoneNumber: "+14150001111" },
      { BLOCKED_IDENTIFIERS: config },
    );
    expect(refused.status).toBe(422);
    expect(await storedRows("email = ? OR phoneNumber = ?", "guest@shop.example", "+14150001111")).toEqual([]);
  });

  it("switches the built-in rules off", async () => {
    const email = `${unique("off")}@x.io`;
    const res = await post({ email, phoneNumber: "0000000000" }, { BLOCKED_IDENTIFIERS: '{"builtIn": false}' });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBeNull();
    expect(await storedRows("email = ?", email)).toMatchObject([{ phoneNumber: "0000000000" }]);
  });

  it.each([
    ["not JSON", "{email:", "is not valid JSON"],
    ["an unknown key", '{"phone": {"values": ["+15550000"]}}', "phone"],
    ["an invalid pattern", '{"email": {"patterns": ["[a-"]}}', "email.patterns[0] is not a valid regular expression"],
    ["a pattern that blocks everything", '{"email": {"patterns": ["x*"]}}', "matches the empty string"],
    [
      "a catastrophic pattern",
      JSON.stringify({ email: { patterns: ["^([a-z0-9]+\\.?)+@x\\.com$"] } }),
      "email.patterns[0] nests a quantifier",
    ],
  ])("fails closed on %s: 500 internal_error, nothing written, the log says what is wrong", async (_, config, why) => {
    const email = `${unique("closed")}@x.io`;
    const res = await post({ email }, { BLOCKED_IDENTIFIERS: config });
    expect(res.status).toBe(500);
    expect((await res.json<ErrorBody>()).error.code).toBe("internal_error");
    const detail = String(logLine(res).detail);
    expect(detail).toContain("BLOCKED_IDENTIFIERS");
    expect(detail).toContain(why);
    expect(await storedRows("email = ?", email)).toEqual([]);
  });
});

describe("CORS", () => {
  it("lets a browser read Identity-Ignored", async () => {
    const res = await callWith({ ALLOWED_ORIGINS: "https://app.example.com" }, "/identify", {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json" },
      body: JSON.stringify({ email: `${unique("cors")}@x.io`, phoneNumber: "0000000000" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-expose-headers")).toContain("Identity-Ignored");
  });
});

import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../../src/contract/request";
import { call, countRows, identify, postIdentify, storedRows, unique } from "../helpers";

type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

/**
 * Sends `body` to /identify, expects `status` with the JSON error envelope and no
 * stack, and checks that nothing was written. Returns the error.
 */
async function expectRefused(status: number, body: BodyInit, init: RequestInit = {}): Promise<ErrorBody["error"]> {
  const before = await countRows();
  const res = await call("/identify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    ...init,
  });
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(text).not.toMatch(/\bat .+:\d+|Error:/);
  const parsed = JSON.parse(text) as ErrorBody;
  expect(parsed.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  expect(await countRows()).toBe(before);
  return parsed.error;
}

/**
 * A stream of `total` bytes of a JSON string body, in 1 KiB chunks: no Content-Length.
 * `pulled()` tells how many bytes the reader took.
 */
function streamed(total: number): ReadableStream<Uint8Array> & { pulled: () => number } {
  const chunk = new TextEncoder().encode("x".repeat(1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('"'));
      if (sent >= total) {
        controller.enqueue(new TextEncoder().encode('"'));
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
  return Object.assign(stream, { pulled: () => sent });
}

describe("bodies over 16 KiB", () => {
  it("are refused with 413 when Content-Length says so", async () => {
    const email = `${unique("big")}@x.io`;
    const body = JSON.stringify({ email, padding: "x".repeat(MAX_BODY_BYTES) });
    expect((await expectRefused(413, body)).code).toBe("payload_too_large");
    expect(await storedRows("email = ?", email)).toEqual([]);
  });

  it("are refused with 413 when streamed without Content-Length, without reading it all", async () => {
    const request = new Request("https://x.test", { method: "POST", body: streamed(1024 * 1024) });
    expect(request.headers.get("content-length")).toBeNull();
    expect((await expectRefused(413, streamed(1024 * 1024))).code).toBe("payload_too_large");
  });

  it.each([
    ["not a number", "abc"],
    ["duplicated", "100, 100"],
    ["smaller than the body", "100"],
  ])("are refused with 413 when Content-Length is %s, reading no more than the limit", async (_, contentLength) => {
    const body = streamed(1024 * 1024);
    const refused = await expectRefused(413, body, {
      headers: { "content-type": "application/json", "content-length": contentLength },
    });
    expect(refused.code).toBe("payload_too_large");
    // The counting stream stops one chunk past the limit; the rest is never pulled.
    expect(body.pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 4 * 1024);
  });

  it("are accepted up to exactly 16 KiB", async () => {
    const email = `${unique("edge")}@x.io`;
    const shell = JSON.stringify({ email, padding: "" });
    const body = JSON.stringify({ email, padding: "x".repeat(MAX_BODY_BYTES - shell.length) });
    expect(new TextEncoder().encode(body).byteLength).toBe(MAX_BODY_BYTES);
    expect((await identify(body)).emails).toEqual([email]);
  });
});

describe("bodies that are not UTF-8 JSON", () => {
  it.each([
    ["a lone continuation byte", [0x7b, 0x80, 0x7d]],
    ["an overlong encoding of '/'", [0x7b, 0xc0, 0xaf, 0x7d]],
    ["an encoded UTF-16 surrogate", [0x7b, 0xed, 0xa0, 0x80, 0x7d]],
    ["a truncated sequence", [0x7b, 0x22, 0xe2, 0x82, 0x22, 0x7d]],
    ["Latin-1 text", [...new TextEncoder().encode('{"email":"'), 0xe9, ...new TextEncoder().encode('@x.io"}')]],
  ])("refuses %s as invalid_body", async (_, bytes) => {
    expect((await expectRefused(400, new Uint8Array(bytes))).code).toBe("invalid_body");
  });

  it.each([
    ["an empty body", ""],
    ["truncated JSON", '{"email": "a@x.io"'],
    ["a trailing comma", '{"email": "a@x.io",}'],
    ["single quotes", "{'email': 'a@x.io'}"],
    ["NaN", '{"phoneNumber": NaN}'],
    ["two documents", '{"email": "a@x.io"} {}'],
  ])("refuses %s as invalid_json", async (_, body) => {
    expect((await expectRefused(400, body)).code).toBe("invalid_json");
  });
});

describe("deeply nested JSON", () => {
  const nest = (depth: number, inner: string) => "[".repeat(depth) + inner + "]".repeat(depth);

  it(`is accepted up to ${MAX_JSON_DEPTH} levels, in a field that is ignored`, async () => {
    const email = `${unique("nest")}@x.io`;
    const body = `{"email":"${email}","extra":${nest(MAX_JSON_DEPTH - 1, "1")}}`;
    expect((await identify(body)).emails).toEqual([email]);
  });

  it("is refused beyond that, however deep, without exhausting the stack", async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 1000, MAX_BODY_BYTES / 2 - 64]) {
      const email = `${unique("deep")}@x.io`;
      const error = await expectRefused(400, `{"email":"${email}","extra":${nest(depth, "1")}}`);
      expect(error.code).toBe("invalid_json");
      expect(await storedRows("email = ?", email)).toEqual([]);
    }
    expect((await expectRefused(400, '{"a":'.repeat(3000))).code).toBe("invalid_json");
  });
});

describe("phone numbers sent as JSON numbers", () => {
  it.each([
    ["2^53", "9007199254740992"],
    ["2^53 + 1 (not representable)", "9007199254740993"],
    ["1e21", "1e21"],
    ["a number beyond double range", "1e400"],
    ["a fraction", "5550001.5"],
    ["a negative number", "-5550001"],
    ["an exponent that lands on an integer too big to be safe", "1.5e300"],
  ])("refuses %s", async (_, literal) => {
    const error = await expectRefused(400, `{"phoneNumber": ${literal}}`);
    expect(error.code).toBe("invalid_request");
    expect(error.issues?.map((issue) => issue.path)).toEqual(["phoneNumber"]);
  });

  it("accepts the largest safe integer", async () => {
    expect((await identify({ phoneNumber: Number.MAX_SAFE_INTEGER })).phoneNumbers).toEqual([
      String(Number.MAX_SAFE_INTEGER),
    ]);
  });
});

describe("control characters", () => {
  const controls = ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009b", "\t", "\n"];

  it.each(controls.map((c) => [JSON.stringify(c), c]))("refuses %s inside an email or a phone", async (_, c) => {
    const local = unique("ctl");
    for (const body of [{ email: `${local}${c}x@x.io` }, { phoneNumber: `555${c}0100` }]) {
      const error = await expectRefused(400, JSON.stringify(body));
      expect(error.code).toBe("invalid_request");
    }
    expect(await storedRows("email LIKE ?", `${local}%`)).toEqual([]);
  });

  it.each(controls.filter((c) => c.trim() !== "").map((c) => [JSON.stringify(c), c]))(
    "refuses %s at either end, where trimming would not remove it",
    async (_, c) => {
      const email = `${unique("edge")}@x.io`;
      for (const body of [{ email: `${c}${email}` }, { email: `${email}${c}` }, { phoneNumber: `${c}5550100` }]) {
        expect((await expectRefused(400, JSON.stringify(body))).code).toBe("invalid_request");
      }
      expect(await storedRows("email = ?", email)).toEqual([]);
    },
  );

  it("trims whitespace (tab and newline included) around an identifier, as docs/contract.md says", async () => {
    const email = `${unique("trim")}@x.io`;
    expect((await identify({ email: `\t${email}\n` })).emails).toEqual([email]);
  });
});

describe("every wrong type", () => {
  const wrongEmails = [42, true, false, [], ["a@x.io"], {}, { email: "a@x.io" }, 1.5];
  const wrongPhones = [true, false, [], ["5550100"], {}, { n: 5550100 }, 1.5, -1];

  it("refuses a body that is not an object", async () => {
    for (const body of ["null", "true", "42", '"a@x.io"', '["a@x.io"]', "[]"]) {
      expect((await expectRefused(400, body)).code).toBe("invalid_request");
    }
  });

  it("refuses an email that is not a string or null, naming the field", async () => {
    for (const email of wrongEmails) {
      const error = await expectRefused(400, JSON.stringify({ email, phoneNumber: "5550100" }));
      expect(error.issues?.map((issue) => issue.path)).toEqual(["email"]);
    }
  });

  it("refuses a phone that is not a string, a whole number or null, naming the field", async () => {
    for (const phoneNumber of wrongPhones) {
      const email = `${unique("type")}@x.io`;
      const error = await expectRefused(400, JSON.stringify({ email, phoneNumber }));
      expect(error.issues?.map((issue) => issue.path)).toEqual(["phoneNumber"]);
      expect(await storedRows("email = ?", email)).toEqual([]);
    }
  });

  it("refuses a body with neither identifier", async () => {
    for (const body of [{}, { email: null, phoneNumber: null }, { email: " ", phoneNumber: "" }, { name: "x" }]) {
      expect((await expectRefused(400, JSON.stringify(body))).code).toBe("invalid_request");
    }
  });

  it("answers valid requests again afterwards", async () => {
    const email = `${unique("after")}@x.io`;
    const res = await postIdentify({ email });
    expect(res.status).toBe(200);
  });
});

import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../../src/contract/request";
import { blockingRule, parseBlockList } from "../../src/domain/blocking";
import { call, countRows, expectInvariants } from "../helpers";

// Property: whatever the body, the Worker never answers 5xx, an invalid body writes
// no row, and a valid one is answered 200 with its normalised identifiers.
// Each generated body carries its expected verdict, known by construction.

type Case = { body: BodyInit; valid: false } | { body: string; valid: true; email?: string; phone?: string };

const RUNS = 3000;
const encoder = new TextEncoder();

beforeAll(() => {
  // Thousands of requests in seconds would spend any sane budget; the limiter has its
  // own test (rate-limit.test.ts), this one is about input.
  vi.spyOn(env.RATE_LIMITER, "limit").mockResolvedValue({ success: true });
});
afterAll(() => {
  vi.restoreAllMocks();
});

// Identifiers drawn from a small space, so that valid bodies also link and merge clusters.
const local = fc.stringMatching(/^[a-z0-9]{1,6}(\.[a-z0-9]{1,4})?$/);
const domain = fc.constantFrom("x.io", "example.com", "mail.test.org");
const email = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
// Placeholders (`1111111`, `+1234567`...) are refused or dropped by design (blocked.test.ts).
const builtInBlocks = parseBlockList("");
const phoneDigits = fc
  .tuple(fc.boolean(), fc.integer({ min: 100, max: 9_999_999 }))
  .map(([plus, n]) => `${plus ? "+" : ""}${n}`)
  .filter((phone) => blockingRule(builtInBlocks, "phoneNumber", phone) === undefined);

/** A valid phone as a caller might type it, with the normalised form. */
const typedPhone = fc
  .tuple(phoneDigits, fc.constantFrom("", " ", "-", ".", "(", ")"), fc.boolean())
  .map(([digits, sep, asNumber]) => {
    if (asNumber && !digits.startsWith("+")) return { input: Number(digits) as string | number, phone: digits };
    const input = digits.replace(/(\d{3})(?=\d)/, `$1${sep}`);
    return { input, phone: digits };
  });
/** A valid email as a caller might send it: any case, blank around it. */
const typedEmail = fc
  .tuple(email, fc.boolean(), fc.constantFrom("", " ", "  "))
  .map(([e, upper, pad]) => ({ input: `${pad}${upper ? e.toUpperCase() : e}${pad}`, email: e }));

const validCase: fc.Arbitrary<Case> = fc
  .record(
    {
      e: fc.option(typedEmail, { nil: undefined }),
      p: fc.option(typedPhone, { nil: undefined }),
      extra: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: ["e", "p"] },
  )
  .filter(({ e, p }) => e !== undefined || p !== undefined)
  .map(({ e, p, extra }) => ({
    valid: true as const,
    body: JSON.stringify({ email: e?.input ?? null, phoneNumber: p?.input, note: extra }),
    email: e?.email,
    phone: p?.phone,
  }));

const wrongEmail = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.array(email, { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  fc.string().filter((s) => !s.includes("@") && s.trim() !== ""), // no @: never an address
  fc.tuple(local, domain).map(([l, d]) => `${l}@@${d}`),
  fc.string({ minLength: 255, maxLength: 400 }).map((s) => `${s}@x.io`), // too long
  fc.tuple(local, fc.integer({ min: 0, max: 0x1f }), domain).map(([l, c, d]) => `${l}${String.fromCharCode(c)}@${d}`),
  fc.tuple(email, fc.constantFrom("\u0000", "\u0007", "\u001b", "\u007f", "\u0085")).map(([e, c]) => `${c}${e}`),
);
const wrongPhone = fc.oneof(
  fc.boolean(),
  // NaN and ±Infinity would be serialised as null, a valid (absent) phone.
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
  fc.constantFrom(2 ** 53, 2 ** 60, 1e21, Number.MAX_VALUE),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
  fc.stringMatching(/^[0-9]{21,30}$/), // too long
  fc.stringMatching(/^([0-9]{1,2}|\+[0-9])$/), // too short: 3 characters at least, + included
  fc.tuple(phoneDigits, fc.stringMatching(/^[a-z#*/]$/)).map(([p, c]) => `${p}${c}1`),
  // Inside the number: at its ends, whitespace controls (tab, newline) are trimmed as blanks.
  fc.tuple(phoneDigits, fc.integer({ min: 0, max: 0x1f })).map(([p, c]) => `${p}${String.fromCharCode(c)}1`),
);

/** Objects whose every identifier is either wrong or absent, and at least one wrong or none usable. */
const invalidObject: fc.Arbitrary<Case> = fc
  .oneof(
    fc.record({ email: wrongEmail }),
    fc.record({ phoneNumber: wrongPhone }),
    fc.record({ email: wrongEmail, phoneNumber: fc.option(typedPhone.map((p) => p.input)) }),
    fc.record({ email: fc.option(typedEmail.map((e) => e.input)), phoneNumber: wrongPhone }),
    fc.record(
      { email: fc.constantFrom(null, "", "   "), phoneNumber: fc.constantFrom(null, "", " ") },
      { requiredKeys: [] },
    ),
    fc.dictionary(
      fc.string().filter((k) => k !== "email" && k !== "phoneNumber"),
      fc.jsonValue({ maxDepth: 2 }),
      {
        maxKeys: 4,
      },
    ),
  )
  .map((value) => ({ valid: false as const, body: JSON.stringify(value) }));

const nested = fc
  .tuple(fc.integer({ min: MAX_JSON_DEPTH + 1, max: 4000 }), fc.constantFrom("[", '{"a":'), email)
  .map(([depth, open, e]) => {
    const close = open === "[" ? "]" : "}";
    return { valid: false as const, body: `{"email":"${e}","x":${open.repeat(depth)}1${close.repeat(depth)}}` };
  });

const oversized = fc.tuple(email, fc.integer({ min: 1, max: 4096 }), fc.boolean()).map(([e, over, stream]) => {
  const text = JSON.stringify({ email: e, pad: "x".repeat(MAX_BODY_BYTES + over) });
  const bytes = encoder.encode(text);
  const body: BodyInit = stream
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
          controller.close();
        },
      })
    : text;
  return { valid: false as const, body };
});

const notAnObject: fc.Arbitrary<Case> = fc
  .oneof(
    fc
      .jsonValue()
      .filter((value) => typeof value !== "object" || value === null || Array.isArray(value))
      .map((v) => JSON.stringify(v)),
    fc.string(), // almost never JSON; never an object with a valid identifier
    fc.string({ unit: "binary" }),
  )
  .filter((text) => !/"(email|phoneNumber)"/.test(text))
  .map((body) => ({ valid: false as const, body }));

const rawBytes: fc.Arbitrary<Case> = fc
  .uint8Array({ minLength: 0, maxLength: 64 })
  .map((bytes) => ({ valid: false as const, body: new Uint8Array([0x7b, ...bytes, 0xff, 0x7d]) }));

const anyCase: fc.Arbitrary<Case> = fc.oneof(
  { arbitrary: validCase, weight: 4 },
  { arbitrary: invalidObject, weight: 6 },
  { arbitrary: nested, weight: 1 },
  { arbitrary: oversized, weight: 1 },
  { arbitrary: notAnObject, weight: 2 },
  { arbitrary: rawBytes, weight: 1 },
);

describe("thousands of generated bodies", () => {
  it("never get a 5xx; invalid ones are refused with a JSON 4xx and write nothing", { timeout: 120_000 }, async () => {
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(anyCase, async (generated) => {
        const before = await countRows();
        const res = await call("/identify", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: generated.body,
        });
        const text = await res.text();
        expect(res.status, text).toBeLessThan(500);
        const answer = JSON.parse(text) as Record<string, unknown>;
        if (!generated.valid) {
          expect([400, 413], text).toContain(res.status);
          expect(answer).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
          expect(await countRows()).toBe(before);
          return;
        }
        valid += 1;
        expect(res.status, `${generated.body} -> ${text}`).toBe(200);
        if (generated.email) expect(answer.emails).toContain(generated.email);
        if (generated.phone) expect(answer.phoneNumbers).toContain(generated.phone);
        expect(await countRows()).toBeLessThanOrEqual(before + 1);
      }),
      { numRuns: RUNS },
    );
    expect(valid).toBeGreaterThan(RUNS / 5);
    await expectInvariants();
  });
});

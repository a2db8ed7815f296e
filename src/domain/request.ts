import * as v from "valibot";
import type { Identifiers } from "./contact";
import { canonicalEmail, MAX_EMAIL_LENGTH } from "./email";

/** The seed's `phoneNumber VARCHAR(20)`. */
const MAX_PHONE_LENGTH = 20;
const MIN_PHONE_LENGTH = 3;

// Separators people type inside phone numbers; everything else must be a digit.
const PHONE_SEPARATORS = /[ \-.()]/g;
const PHONE_SHAPE = new RegExp(`^(?=.{${MIN_PHONE_LENGTH},${MAX_PHONE_LENGTH}}$)\\+?[0-9]+$`);

/** Empty or whitespace-only strings count as absent (docs/contract.md, "Request"). */
const blankToUndefined = (value: string | null | undefined): string | undefined =>
  value == null || value.trim() === "" ? undefined : value;

// The descriptions sit before the first transform: that is the part of each pipe the
// OpenAPI document (src/openapi) can express, as the JSON Schema of what a caller sends.
const EmailField = v.pipe(
  v.nullish(v.string("email must be a string or null")),
  v.description(
    `Trimmed and lower-cased, then it must be a valid address of at most ${MAX_EMAIL_LENGTH} characters. ` +
      "Internationalised addresses (RFC 6531) are valid: a UTF-8 local part, an IDN domain, stored with the " +
      "domain in its ASCII (`xn--`) form, so `ünïcödé@bücher.de` is answered as `ünïcödé@xn--bcher-kva.de`. " +
      "null, an empty or a blank string count as absent.",
  ),
  v.transform(blankToUndefined),
  v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.transform(canonicalEmail),
      v.string("email must be a valid email address"),
      v.maxLength(MAX_EMAIL_LENGTH, `email must be at most ${MAX_EMAIL_LENGTH} characters`),
    ),
  ),
);

const PhoneField = v.pipe(
  v.nullish(
    v.union(
      [
        v.string(),
        v.pipe(
          v.number(),
          v.safeInteger("phoneNumber must be a whole number within 2^53"),
          v.minValue(0, "phoneNumber must not be negative"),
        ),
      ],
      "phoneNumber must be a string, a whole number or null",
    ),
  ),
  v.description(
    "Spaces, `-`, `.`, `(` and `)` are removed; what remains must be digits with an optional leading `+`, " +
      `${MIN_PHONE_LENGTH} to ${MAX_PHONE_LENGTH} characters in all. No country code is guessed: ` +
      '"919999999999" and "+919999999999" are different phones. null, an empty or a blank string count as absent.',
  ),
  v.transform((value) => blankToUndefined(value == null ? value : String(value))),
  v.optional(
    v.pipe(
      v.string(),
      v.transform((phone) => phone.trim().replace(PHONE_SEPARATORS, "")),
      v.regex(
        PHONE_SHAPE,
        `phoneNumber must be ${MIN_PHONE_LENGTH} to ${MAX_PHONE_LENGTH} digits with an optional leading +`,
      ),
    ),
  ),
);

/** The stored form of one email as `/identify` would store it, or undefined if it is not valid. */
export function normaliseEmail(value: string): string | undefined {
  const parsed = v.safeParse(EmailField, value);
  return parsed.success ? parsed.output : undefined;
}

/** The stored form of one phone as `/identify` would store it, or undefined if it is not valid. */
export function normalisePhone(value: string): string | undefined {
  const parsed = v.safeParse(PhoneField, value);
  return parsed.success ? parsed.output : undefined;
}

/**
 * The `/identify` body: validates and normalises in one pass. Unknown fields
 * are dropped; at least one identifier must survive normalisation.
 */
export const IdentifyRequestSchema = v.pipe(
  v.object({ email: EmailField, phoneNumber: PhoneField }, "the request body must be a JSON object"),
  v.description(
    "At least one of `email` and `phoneNumber` must be present after normalisation. Unknown fields are ignored.",
  ),
  v.check(
    (input) => input.email !== undefined || input.phoneNumber !== undefined,
    "provide an email, a phoneNumber, or both",
  ),
  v.transform((input): Identifiers => {
    const identifiers: Identifiers = {};
    if (input.email !== undefined) identifiers.email = input.email;
    if (input.phoneNumber !== undefined) identifiers.phoneNumber = input.phoneNumber;
    return identifiers;
  }),
);

/** A contact id in a path (`/contacts/{id}`): a positive integer in decimal, within 2^53. */
export const ContactIdSchema = v.pipe(
  v.string(),
  v.description("A contact id: a positive integer."),
  v.regex(/^[1-9][0-9]{0,15}$/, "id must be a positive integer"),
  v.transform(Number),
  v.safeInteger("id must be a positive integer within 2^53"),
);

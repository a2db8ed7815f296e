import * as v from "valibot";

/** docs/contract.md: a body larger than this is answered 413 before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Arrays and objects nested deeper than this are refused before `JSON.parse` sees them. */
export const MAX_JSON_DEPTH = 32;

/** RFC 5321 caps a forward path at 256 octets including the angle brackets. */
export const MAX_EMAIL_LENGTH = 254;

/** The seed's `phoneNumber VARCHAR(20)`. */
export const MAX_PHONE_LENGTH = 20;
export const MIN_PHONE_LENGTH = 3;

/** Empty or whitespace-only strings count as absent (docs/contract.md, "Request"). */
const blankToUndefined = (value: string | null | undefined): string | undefined =>
  value == null || value.trim() === "" ? undefined : value;

// The descriptions sit before the first transform: that is the part of each pipe the
// OpenAPI document (src/openapi) can express, as the JSON Schema of what a caller sends.
const EmailInput = v.pipe(
  v.nullish(v.string("email must be a string or null")),
  v.description(
    `Trimmed and lower-cased, then it must be a valid address of at most ${MAX_EMAIL_LENGTH} characters. ` +
      "Internationalised addresses (RFC 6531) are valid: a UTF-8 local part, an IDN domain, stored with the " +
      "domain in its ASCII (`xn--`) form, so `ünïcödé@bücher.de` is answered as `ünïcödé@xn--bcher-kva.de`. " +
      "null, an empty or a blank string count as absent.",
  ),
);

const PhoneInput = v.pipe(
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
);

/**
 * How each identifier is normalised once the wire check has passed and a blank value has
 * been dropped: a schema from a present string to its stored form (the domain's rules).
 */
export type IdentifierRules = {
  email: v.GenericSchema<string, string>;
  phoneNumber: v.GenericSchema<string, string>;
};

/** One field of the body: the wire check, a blank counts as absent, then `rule`. */
function field<TInput extends v.GenericSchema<unknown, string | number | null | undefined>>(
  input: TInput,
  rule: v.GenericSchema<string, string>,
) {
  return v.pipe(
    input,
    v.transform((value) => blankToUndefined(value == null ? value : String(value))),
    v.optional(rule),
  );
}

/**
 * The body of `/identify`, `/lookup` and `/erase`: validates and normalises in one pass,
 * each identifier by `rules`. Unknown fields are dropped; at least one identifier must
 * survive normalisation.
 */
export function identifyRequestSchema(rules: IdentifierRules) {
  return v.pipe(
    v.object(
      { email: field(EmailInput, rules.email), phoneNumber: field(PhoneInput, rules.phoneNumber) },
      "the request body must be a JSON object",
    ),
    v.description(
      "At least one of `email` and `phoneNumber` must be present after normalisation. Unknown fields are ignored.",
    ),
    v.check(
      (input) => input.email !== undefined || input.phoneNumber !== undefined,
      "provide an email, a phoneNumber, or both",
    ),
    v.transform((input): { email?: string; phoneNumber?: string } => {
      const identifiers: { email?: string; phoneNumber?: string } = {};
      if (input.email !== undefined) identifiers.email = input.email;
      if (input.phoneNumber !== undefined) identifiers.phoneNumber = input.phoneNumber;
      return identifiers;
    }),
  );
}

/** A contact id in a path (`/contacts/{id}`): a positive integer in decimal, within 2^53. */
export const ContactIdSchema = v.pipe(
  v.string(),
  v.description("A contact id: a positive integer."),
  v.regex(/^[1-9][0-9]{0,15}$/, "id must be a positive integer"),
  v.transform(Number),
  v.safeInteger("id must be a positive integer within 2^53"),
);

import * as v from "valibot";
import {
  type IdentifierRules,
  identifyRequestSchema,
  MAX_EMAIL_LENGTH,
  MAX_PHONE_LENGTH,
  MIN_PHONE_LENGTH,
} from "../contract/request";
import { canonicalEmail } from "./email";

// Separators people type inside phone numbers; everything else must be a digit.
const PHONE_SEPARATORS = /[ \-.()]/g;
const PHONE_SHAPE = new RegExp(`^(?=.{${MIN_PHONE_LENGTH},${MAX_PHONE_LENGTH}}$)\\+?[0-9]+$`);

/**
 * The stored form of each identifier, from a present, non-blank string: what the request
 * schema (src/contract/request.ts) applies after its wire check.
 */
export const IDENTIFIER_RULES: IdentifierRules = {
  email: v.pipe(
    v.string(),
    v.trim(),
    v.transform(canonicalEmail),
    v.string("email must be a valid email address"),
    v.maxLength(MAX_EMAIL_LENGTH, `email must be at most ${MAX_EMAIL_LENGTH} characters`),
  ),
  phoneNumber: v.pipe(
    v.string(),
    v.transform((phone) => phone.trim().replace(PHONE_SEPARATORS, "")),
    v.regex(
      PHONE_SHAPE,
      `phoneNumber must be ${MIN_PHONE_LENGTH} to ${MAX_PHONE_LENGTH} digits with an optional leading +`,
    ),
  ),
};

/**
 * The body of `/identify`, `/lookup` and `/erase` (src/contract/request.ts) with these rules:
 * what the Worker parses bodies with, the OpenAPI document describes, and an import checks.
 */
export const IdentifyRequestSchema = identifyRequestSchema(IDENTIFIER_RULES);

function normalise(rule: v.GenericSchema<string, string>, value: string): string | undefined {
  // A blank value counts as absent, as in a request.
  if (value.trim() === "") return undefined;
  const parsed = v.safeParse(rule, value);
  return parsed.success ? parsed.output : undefined;
}

/** The stored form of one email as `/identify` would store it, or undefined if it is not valid. */
export function normaliseEmail(value: string): string | undefined {
  return normalise(IDENTIFIER_RULES.email, value);
}

/** The stored form of one phone as `/identify` would store it, or undefined if it is not valid. */
export function normalisePhone(value: string): string | undefined {
  return normalise(IDENTIFIER_RULES.phoneNumber, value);
}

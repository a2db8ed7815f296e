import safeRegex from "safe-regex2";
import * as v from "valibot";
import type { Identifiers } from "./contact";
import { normaliseEmail, normalisePhone } from "./normalise";

/** A request field that identifies a customer. */
export type IdentifierField = keyof Identifiers;
/**
 * Why a field of a request was left out, as the `Identity-Ignored` header says: blocked,
 * over a cluster limit, or (a lookup) in another cluster than the email.
 */
export type IgnoredReason = "blocked" | "cluster_limit" | "other_cluster" | "separated";
/** One field left out of a request; `rule` names the blocking rule (never the value). */
export type Ignored = { field: IdentifierField; reason: IgnoredReason; rule?: string };

type Rule = { name: string; field: IdentifierField; test: (value: string) => boolean };

const digitsOf = (phone: string): string => (phone.startsWith("+") ? phone.slice(1) : phone);

/** Every digit the same, 6 or more: `000000`, `0000000000`, `+1111111111`. */
function repeatedDigit(phone: string): boolean {
  const digits = digitsOf(phone);
  return digits.length >= 6 && [...digits].every((digit) => digit === digits[0]);
}

/** The whole number is one run of 8 or more digits going up (0 may follow 9) or down. */
function digitRun(phone: string): boolean {
  const digits = [...digitsOf(phone)].map(Number);
  if (digits.length < 8) return false;
  const up = digits.every((d, i) => i === 0 || d === ((digits[i - 1] ?? 0) + 1) % 10);
  const down = digits.every((d, i) => i === 0 || d === (digits[i - 1] ?? 0) - 1);
  return up || down;
}

// Amperity's bad-values documentation names 555-1212 (directory assistance) and 867-5309 (a
// song) as phones people type instead of their own; without an area code neither can be
// anyone's number.
const PLACEHOLDER_PHONES = new Set(["5551212", "8675309"]);
// NANPA reserves 555-0100 to 555-0199 in every area code for fiction and examples.
const FICTIONAL_NANP = /^\+1[2-9][0-9]{2}55501[0-9]{2}$/;

const NO_REPLY_LOCAL_PARTS = new Set(["noreply", "no-reply", "donotreply", "do-not-reply"]);
// Addresses typed into a required field by people who have none to give, whole
// addresses only: a domain is never blocked as such.
const PLACEHOLDER_EMAILS = new Set(
  ["test", "none", "null", "noemail", "nomail", "email", "na", "unknown", "fake", "asdf", "noone", "nobody"].map(
    (word) => `${word}@${word}.com`,
  ),
);

const localPart = (email: string): string => email.slice(0, email.lastIndexOf("@"));

/**
 * The built-in rules, on unless switched off. Each is named in logs and configuration;
 * docs/contract.md lists them.
 */
const BUILT_IN_RULES: readonly Rule[] = [
  { name: "phone_repeated_digit", field: "phoneNumber", test: repeatedDigit },
  { name: "phone_digit_run", field: "phoneNumber", test: digitRun },
  { name: "phone_placeholder", field: "phoneNumber", test: (phone) => PLACEHOLDER_PHONES.has(phone) },
  { name: "phone_fictional_nanp", field: "phoneNumber", test: (phone) => FICTIONAL_NANP.test(phone) },
  { name: "email_no_reply", field: "email", test: (email) => NO_REPLY_LOCAL_PARTS.has(localPart(email)) },
  { name: "email_placeholder", field: "email", test: (email) => PLACEHOLDER_EMAILS.has(email) },
];
const BUILT_IN_NAMES = BUILT_IN_RULES.map((rule) => rule.name);

/** The blocking rules in force: built-in ones, then the operator's, in that order. */
export type BlockList = { rules: readonly Rule[] };

/** `BLOCKED_IDENTIFIERS` is not usable; the message says what is wrong, never a configured value. */
export class BlockListError extends Error {
  constructor(message: string) {
    super(`BLOCKED_IDENTIFIERS: ${message}`);
    this.name = "BlockListError";
  }
}

/** Operator patterns: bounded so that a pattern cannot make every request slow. */
const MAX_PATTERNS_PER_FIELD = 50;
const MAX_PATTERN_LENGTH = 200;
// safe-regex2's bound on the quantifiers of one pattern (its default).
const MAX_PATTERN_QUANTIFIERS = 25;

const FieldRules = v.strictObject({
  values: v.optional(v.array(v.string())),
  patterns: v.optional(v.array(v.string())),
});
const BlockListConfig = v.strictObject({
  builtIn: v.optional(v.boolean()),
  disable: v.optional(v.array(v.picklist(BUILT_IN_NAMES as [string, ...string[]]))),
  email: v.optional(FieldRules),
  phoneNumber: v.optional(FieldRules),
});

const NORMALISE: Record<IdentifierField, (value: string) => string | undefined> = {
  email: normaliseEmail,
  phoneNumber: normalisePhone,
};

function operatorRules(field: IdentifierField, config: v.InferOutput<typeof FieldRules> | undefined): Rule[] {
  const rules: Rule[] = [];
  const values = new Set<string>();
  for (const [i, value] of (config?.values ?? []).entries()) {
    const normalised = NORMALISE[field](value);
    if (normalised === undefined) {
      throw new BlockListError(`${field}.values[${i}] is not a valid ${field}; write it as a caller would send it`);
    }
    values.add(normalised);
  }
  if (values.size > 0) rules.push({ name: `${field}.values`, field, test: (value) => values.has(value) });

  const patterns = config?.patterns ?? [];
  if (patterns.length > MAX_PATTERNS_PER_FIELD) {
    throw new BlockListError(`${field}.patterns has ${patterns.length} entries; at most ${MAX_PATTERNS_PER_FIELD}`);
  }
  for (const [i, source] of patterns.entries()) {
    const name = `${field}.patterns[${i}]`;
    if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
      throw new BlockListError(`${name} must be 1 to ${MAX_PATTERN_LENGTH} characters`);
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(source, "u");
    } catch (err) {
      throw new BlockListError(`${name} is not a valid regular expression (${(err as Error).message})`);
    }
    // A quantifier inside a quantified group (`(a+)+`, `([a-z0-9]+\.?)+`) can backtrack
    // exponentially on a near-miss: every request would burn CPU. safe-regex2 measures that
    // nesting (star height); a pattern its parser cannot read is refused too.
    if (!safeRegex(source, { limit: MAX_PATTERN_QUANTIFIERS })) {
      throw new BlockListError(
        `${name} nests a quantifier inside a quantified group (or has over ${MAX_PATTERN_QUANTIFIERS} quantifiers), ` +
          "which can backtrack catastrophically; write it without nested repetition",
      );
    }
    // A pattern that matches the empty string matches every value (`.*`, `^`, `x?`):
    // certainly a mistake, and it would block every caller.
    if (pattern.test("")) throw new BlockListError(`${name} matches the empty string, so it would block every value`);
    rules.push({ name, field, test: (value) => pattern.test(value) });
  }
  return rules;
}

/**
 * Parses the `BLOCKED_IDENTIFIERS` variable. Empty or unset: the built-in rules only.
 * Otherwise a JSON object:
 * `{"builtIn": true, "disable": ["phone_digit_run"], "email": {"values": [...], "patterns": [...]},
 *   "phoneNumber": {"values": [...], "patterns": [...]}}`; every key optional, no other key allowed.
 * Values are normalised as requests are; patterns are JavaScript regular expressions
 * (Unicode mode) tested against the normalised value, without nested quantifiers.
 * @throws BlockListError saying what is wrong: a malformed value must fail closed.
 */
export function parseBlockList(text: string | undefined): BlockList {
  if (text === undefined || text.trim() === "") return { rules: BUILT_IN_RULES };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BlockListError("is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new BlockListError("must be a JSON object (or empty for the built-in rules only)");
  }
  const parsed = v.safeParse(BlockListConfig, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = v.getDotPath(issue) ?? "";
    throw new BlockListError(`${path}: ${issue.message}`);
  }
  const config = parsed.output;
  const disabled = new Set(config.disable ?? []);
  const builtIn = config.builtIn === false ? [] : BUILT_IN_RULES.filter((rule) => !disabled.has(rule.name));
  return {
    rules: [...builtIn, ...operatorRules("email", config.email), ...operatorRules("phoneNumber", config.phoneNumber)],
  };
}

/** The name of the first rule of `blockList` that blocks `value` of `field`, if any. */
export function blockingRule(blockList: BlockList, field: IdentifierField, value: string): string | undefined {
  return blockList.rules.find((rule) => rule.field === field && rule.test(value))?.name;
}

/**
 * Drops the blocked identifiers of a normalised request: what is left (undefined when
 * nothing is), and what was dropped, by which rule. The first step of every route that
 * takes identifiers, before anything is matched.
 */
export function screenIdentifiers(
  blockList: BlockList,
  identifiers: Identifiers,
): { kept: Identifiers | undefined; ignored: Ignored[] } {
  const kept: Identifiers = {};
  const ignored: Ignored[] = [];
  for (const field of ["email", "phoneNumber"] as const) {
    const value = identifiers[field];
    if (value === undefined) continue;
    const rule = blockingRule(blockList, field, value);
    if (rule === undefined) kept[field] = value;
    else ignored.push({ field, reason: "blocked", rule });
  }
  return { kept: kept.email === undefined && kept.phoneNumber === undefined ? undefined : kept, ignored };
}

/** The fields left out, as an answer reports them: comma-separated `field=reason`. */
export function ignoredHeader(ignored: readonly Ignored[]): string {
  return ignored.map(({ field, reason }) => `${field}=${reason}`).join(", ");
}

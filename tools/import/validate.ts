/**
 * One record of an import, checked as the body of a `/identify` call: the service's own
 * schema (validation and normalisation) and screening (the blocking rules in force).
 * Pure, so that the equivalence test screens its generated records the same way.
 */
import * as v from "valibot";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../../src/contract/request";
import { type BlockList, type Ignored, screenIdentifiers } from "../../src/domain/blocking";
import type { Identifiers } from "../../src/domain/contact";
import { IdentifyRequestSchema } from "../../src/domain/normalise";
import { jsonDepth } from "../../src/http/body";

/** The fields of one record as read from the file (values not checked yet). */
export type RawFields = { email?: unknown; phoneNumber?: unknown };

/** A record `/identify` would take, with the fields its screening left out. */
export type Accepted = { ok: true; who: Identifiers; ignored: Ignored[] };
/** A record `/identify` would refuse: the error code it would answer, and why. */
export type Refused = { ok: false; code: string; message: string };

/**
 * Validates, normalises and screens `fields` as `/identify` does its body: a 400
 * `invalid_request` for what the schema refuses, a 422 `identifier_blocked` when the
 * blocking rules leave nothing.
 */
export function screenRecord(fields: RawFields, blockList: BlockList): Accepted | Refused {
  const parsed = v.safeParse(IdentifyRequestSchema, fields);
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? ""}: ${issue.message}`.replace(/^: /, ""));
    return { ok: false, code: "invalid_request", message: issues.join("; ") };
  }
  const { kept, ignored } = screenIdentifiers(blockList, parsed.output);
  if (kept === undefined) {
    const rules = ignored.map((i) => `${i.field}=${i.rule ?? i.reason}`).join(", ");
    return { ok: false, code: "identifier_blocked", message: `every identifier is blocked (${rules})` };
  }
  return { ok: true, who: kept, ignored };
}

/**
 * Parses one NDJSON line as `/identify` parses a body: at most MAX_BODY_BYTES
 * (`payload_too_large`), nested at most MAX_JSON_DEPTH deep and valid JSON (`invalid_json`).
 */
export function parseJsonRecord(text: string): { ok: true; value: unknown } | Refused {
  // A UTF-8 character is at most 3 bytes per UTF-16 unit: most lines need no encoding to tell.
  if (text.length * 3 > MAX_BODY_BYTES && new TextEncoder().encode(text).byteLength > MAX_BODY_BYTES) {
    return { ok: false, code: "payload_too_large", message: `a record must be at most ${MAX_BODY_BYTES} bytes` };
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    return { ok: false, code: "invalid_json", message: `a record must not nest deeper than ${MAX_JSON_DEPTH} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, code: "invalid_json", message: "the line is not valid JSON" };
  }
}

import * as v from "valibot";
import { ERRORS } from "../contract/errors";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../contract/request";
import type { Identifiers } from "../domain/contact";
import { IdentifyRequestSchema } from "../domain/normalise";
import { fail } from "../errors";

const tooLarge = () => fail("payload_too_large");

/** Reads at most MAX_BODY_BYTES, counting bytes as they stream in, whatever `Content-Length` says. */
async function readBytes(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const bytes = new Uint8Array(MAX_BODY_BYTES);
  let length = 0;
  const reader = body.getReader();
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return bytes.subarray(0, length);
    if (length + chunk.value.byteLength > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    bytes.set(chunk.value, length);
    length += chunk.value.byteLength;
  }
}

/**
 * The deepest nesting of arrays and objects in JSON text, brackets inside strings
 * excepted. A linear scan with a counter, so hostile input cannot exhaust the stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped, even a quote
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Reads a JSON body: at most MAX_BODY_BYTES (413, whatever `Content-Length` says or lacks),
 * valid UTF-8, nested at most MAX_JSON_DEPTH deep, valid JSON (400).
 */
async function readJsonBody(request: Request): Promise<unknown> {
  // A declared length over the limit is refused before reading. Anything else about the
  // header (duplicated, not a number, smaller than the body) is not trusted: every body is
  // read through the counting stream, which stops at the limit.
  const length = request.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length.trim()) && Number(length) > MAX_BODY_BYTES) throw tooLarge();
  const bytes = request.body ? await readBytes(request.body) : new Uint8Array();

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw fail("invalid_body");
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw fail("invalid_json", { message: ERRORS.invalid_json.variants.tooDeep });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw fail("invalid_json");
  }
}

/**
 * Reads a JSON body (readJsonBody) and validates it with `schema`: its output, or a 400
 * listing every problem.
 * @throws HttpError 400 or 413, as readJsonBody, and 400 `invalid_request` for the schema.
 */
export async function readValidBody<TSchema extends v.GenericSchema>(
  request: Request,
  schema: TSchema,
): Promise<v.InferOutput<TSchema>> {
  const parsed = v.safeParse(schema, await readJsonBody(request));
  if (!parsed.success) {
    throw fail("invalid_request", {
      issues: parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? "", message: issue.message })),
    });
  }
  return parsed.output;
}

/**
 * Reads and validates a body of identifiers (`/identify`, `/lookup`, `/erase`): normalised,
 * or a 400 listing every problem (readValidBody).
 */
export function readIdentifiers(request: Request): Promise<Identifiers> {
  return readValidBody(request, IdentifyRequestSchema);
}

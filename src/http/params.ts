import type { IRequest } from "itty-router";
import * as v from "valibot";
import { ERRORS } from "../contract/errors";
import { CursorSchema, FEED_PAGE, FeedLimitSchema } from "../contract/feed";
import { ContactIdSchema } from "../contract/request";
import { fail } from "../errors";

/** A positive integer id from the path or the query, or a 400 naming `path` with `message`. */
function readId(value: unknown, path: string, message: string): number {
  const parsed = v.safeParse(ContactIdSchema, value);
  if (!parsed.success) {
    throw fail("invalid_request", {
      message,
      issues: parsed.issues.map((issue) => ({ path, message: issue.message.replace(/^id\b/, path) })),
    });
  }
  return parsed.output;
}

/**
 * The `{id}` of a `/contacts/{id}` path, as a number.
 * @throws HttpError 400 `invalid_request` when it is not a positive integer.
 */
export function readContactId(request: IRequest): number {
  return readId(request.params.id, "id", ERRORS.invalid_request.variants.contactId);
}

/**
 * The `to` query parameter of `explain`, a contact id.
 * @throws HttpError 400 `invalid_request` when it is missing, repeated, or not a positive integer.
 */
export function readToContactId(request: IRequest): number {
  return readId(request.query.to, "to", ERRORS.invalid_request.variants.to);
}

/**
 * The `{id}` of a `/separations/{id}` path.
 * @throws HttpError 400 `invalid_request` when it is not a positive integer.
 */
export function readSeparationId(request: IRequest): number {
  return readId(request.params.id, "id", ERRORS.invalid_request.variants.separationId);
}

/**
 * Query parameter `name` parsed by `schema`, or `absent` when it is not sent.
 * @throws HttpError 400 `code` when it is malformed or sent more than once.
 */
function queryParameter<T>(
  url: URL,
  name: string,
  schema: v.GenericSchema<string, T>,
  code: "invalid_cursor" | "invalid_limit",
  absent: T,
): T {
  const values = url.searchParams.getAll(name);
  if (values.length === 0) return absent;
  const result = values.length === 1 ? v.safeParse(schema, values[0]) : undefined;
  if (result?.success) return result.output;
  const messages = result ? result.issues.map((issue) => issue.message) : [`${name} must be sent once`];
  throw fail(code, { issues: messages.map((message) => ({ path: name, message })) });
}

/**
 * `after` (as an event id, 0 when absent: before the first event) and `limit` of a page of
 * events: `GET /events` and `GET /contacts/{id}/history`.
 * @throws HttpError 400 `invalid_cursor` or `invalid_limit`.
 */
export function readPage(request: Request): { afterId: number; limit: number } {
  const url = new URL(request.url);
  return {
    afterId: queryParameter(url, "after", CursorSchema, "invalid_cursor", 0),
    limit: queryParameter(url, "limit", FeedLimitSchema, "invalid_limit", FEED_PAGE.default),
  };
}

import { FEED_PAGE } from "./feed";
import type { GraphLink } from "./graph";
import {
  ALLOW_HEADER,
  BOOKMARK_HEADER,
  type HeaderName,
  IGNORED_HEADER,
  RETRY_AFTER_HEADER,
  WWW_AUTHENTICATE_HEADER,
} from "./headers";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "./request";

/**
 * One error code of the API as callers see it:
 * - `status` and `message` (the default; `variants` are the other wordings it is thrown with);
 * - `headers`: what the answer carries besides `X-Request-Id`; the thrower gives their values;
 * - `schema`: the OpenAPI error schema whose `code` list holds it (several codes may share one
 *   status's schema), and `about`: what the code means where its schema holds several.
 */
export type ErrorSpec = {
  status: number;
  message: string;
  variants?: Record<string, string | ((...args: never[]) => string)>;
  headers?: readonly HeaderName[];
  schema: `${string}Error`;
  about?: string;
  /** The envelope also carries `path`, the links that explain the error. */
  path?: true;
};

/**
 * Every error the service answers, in the order the OpenAPI document lists them: the one
 * place a code, its status, its message and its headers are written. `src/errors.ts` throws
 * from it (`fail(code)`), and src/openapi generates the error schemas and examples from it.
 */
export const ERRORS = {
  invalid_request: {
    status: 400,
    message: "The request body is invalid.",
    variants: {
      contactId: "The contact id is invalid.",
      to: "The `to` query parameter must be a contact id: a positive integer.",
      separationId: "The separation id is invalid.",
    },
    schema: "BadRequestError",
    about: "the body is JSON but breaks the request schema, with one entry in `issues` per problem",
  },
  invalid_json: {
    status: 400,
    message: "The request body is not valid JSON.",
    variants: { tooDeep: `The request body must not nest deeper than ${MAX_JSON_DEPTH} levels.` },
    schema: "BadRequestError",
    about: "not JSON, or nested too deep",
  },
  invalid_body: {
    status: 400,
    message: "The request body is not valid UTF-8.",
    schema: "BadRequestError",
    about: "not UTF-8, or unreadable",
  },
  invalid_bookmark: {
    status: 400,
    message: `The ${BOOKMARK_HEADER} header must be a bookmark returned by this service, sent back unchanged.`,
    schema: "BadRequestError",
    about: `the \`${BOOKMARK_HEADER}\` header is not a bookmark this service returned`,
  },
  invalid_cursor: {
    status: 400,
    message: "The after parameter must be a cursor this service returned (an event's id, or next), unchanged.",
    schema: "BadRequestError",
    about: "`after` is not a cursor this service returned",
  },
  invalid_limit: {
    status: 400,
    message: `The limit parameter must be a whole number from 1 to ${FEED_PAGE.max}.`,
    schema: "BadRequestError",
    about: `\`limit\` is not a whole number from 1 to ${FEED_PAGE.max}`,
  },
  unauthorized: {
    status: 401,
    message: "A valid bearer token is required: send Authorization: Bearer <token>.",
    headers: [WWW_AUTHENTICATE_HEADER],
    schema: "UnauthorizedError",
  },
  not_found: { status: 404, message: "No such route.", schema: "NotFoundError" },
  forbidden: {
    status: 403,
    message: "This route needs an admin token (ADMIN_TOKENS).",
    variants: {
      feed: "The change feed needs a feed token (FEED_TOKENS) or an admin token.",
      feedOnly: "A feed token (FEED_TOKENS) reads GET /events only.",
    },
    schema: "ForbiddenError",
  },
  contact_not_found: {
    status: 404,
    message: "No contact holds this email or phone number.",
    variants: {
      id: (id: number) => `No contact has id ${id}.`,
      history: (id: number) => `No contact has id ${id}, and no event names it.`,
    },
    schema: "ContactNotFoundError",
  },
  bridge_not_found: {
    status: 404,
    message: "No bridge with this id is in the cluster of this contact.",
    // With contact_not_found: both are what an unmerge answers 404 with.
    schema: "ContactNotFoundError",
    about: "`unmerge` of a bridge that is not in the cluster of the contact",
  },
  separation_not_found: {
    status: 404,
    message: "No standing separation has this id.",
    schema: "SeparationNotFoundError",
  },
  method_not_allowed: {
    status: 405,
    message: "Use the method the Allow header lists for this path.",
    variants: { allow: (allow: string) => `Use ${allow} for this path.` },
    headers: [ALLOW_HEADER],
    schema: "MethodNotAllowedError",
  },
  not_linked: {
    status: 409,
    message: "The two contacts are not in one cluster: no chain of links joins them.",
    variants: {
      overLimits:
        "The two contacts are in one cluster over the cluster limits, and no chain joins them among the contacts its read covers.",
    },
    schema: "ConflictError",
    about: "`explain` between contacts of different clusters",
  },
  still_linked: {
    status: 409,
    message:
      "Other links still join the bridge's two contacts, so removing it would split nothing; nothing was changed.",
    schema: "ConflictError",
    about: "`unmerge` of a bridge whose contacts stay linked otherwise; `path` is the chain that still joins them",
    path: true,
  },
  payload_too_large: {
    status: 413,
    message: `The request body must be at most ${MAX_BODY_BYTES} bytes.`,
    schema: "PayloadTooLargeError",
  },
  identifier_blocked: {
    status: 422,
    message: "Every identifier of the request is a blocked placeholder; nothing was stored.",
    headers: [IGNORED_HEADER],
    schema: "IdentifierBlockedError",
  },
  rate_limited: {
    status: 429,
    message: "Too many requests for this token; retry after the Retry-After delay.",
    headers: [RETRY_AFTER_HEADER],
    schema: "RateLimitedError",
  },
  internal_error: {
    status: 500,
    message: "The server failed to handle this request.",
    schema: "InternalError",
  },
  service_unavailable: {
    status: 503,
    message: "Storage is unavailable right now; retry shortly.",
    variants: { busy: "The contact is being changed by many requests at once; retry shortly." },
    headers: [RETRY_AFTER_HEADER],
    schema: "ServiceUnavailableError",
  },
} as const satisfies Record<string, ErrorSpec>;

/** An error code of the API. */
export type ErrorCode = keyof typeof ERRORS;

/** An error schema of the OpenAPI document (one per status, with exceptions). */
export type ErrorSchemaName = (typeof ERRORS)[ErrorCode]["schema"];

/** The headers an error with `code` carries (none for most). */
export type ErrorHeaders<TCode extends ErrorCode> = (typeof ERRORS)[TCode] extends {
  headers: readonly (infer H extends HeaderName)[];
}
  ? H
  : never;

/** One problem with a request field, as reported in the `issues` array of a 400. */
export type FieldIssue = { path: string; message: string };

/** The inside of the JSON error envelope: `{"error": {"code", "message", "issues"?}}`. */
export type ErrorDetail = { code: ErrorCode; message: string; issues?: FieldIssue[]; path?: GraphLink[] };

/**
 * The HTTP headers of the API, by name: the one place a header is named. The OpenAPI
 * document describes each response header from RESPONSE_HEADERS, and CORS exposes
 * or allows them from the lists below.
 */

/** The request's id in the Worker's log, echoed when the caller sent a well-formed one. */
export const REQUEST_ID_HEADER = "X-Request-Id";
/** Seconds to wait before retrying a 429 or a 503. */
export const RETRY_AFTER_HEADER = "Retry-After";
/** The methods a path accepts, on a 405. */
export const ALLOW_HEADER = "Allow";
/** The bearer challenge of a 401 (RFC 6750). */
export const WWW_AUTHENTICATE_HEADER = "WWW-Authenticate";
/** The fields of a request an answer does not honour, `field=reason` comma-separated. */
export const IGNORED_HEADER = "Identity-Ignored";
/**
 * A D1 bookmark, both ways. Every answer that read or wrote D1 sends one; a caller that
 * sends it back on its next request reads at least what that answer showed (its own
 * writes included). Without it a read may lag by the replica's delay.
 */
export const BOOKMARK_HEADER = "Identity-Bookmark";

/** How the API document describes a response header. `optional`: not on every answer of its status. */
export type HeaderDoc = { description: string; optional?: boolean; example?: string };

/** Every response header the API documents, in the order of the OpenAPI document. */
export const RESPONSE_HEADERS = {
  [REQUEST_ID_HEADER]: {
    description: "The request's id in the Worker's log; echoes a well-formed `X-Request-Id` sent.",
  },
  [RETRY_AFTER_HEADER]: { description: "Seconds to wait before retrying." },
  [ALLOW_HEADER]: { description: "The methods this path accepts." },
  [WWW_AUTHENTICATE_HEADER]: {
    description: '`Bearer realm="identity"`, plus `error="invalid_token"` for a refused token.',
  },
  [IGNORED_HEADER]: {
    description:
      "Fields of the request that the answer does not honour, comma-separated `field=reason`: `blocked` (a " +
      "placeholder such as `0000000000` or `noreply@…`, never stored or matched), `cluster_limit` (storing it, " +
      "or the merge it asked for, would take the cluster over `MAX_EMAILS_PER_CLUSTER` or " +
      "`MAX_PHONES_PER_CLUSTER`), or `other_cluster` (a lookup whose email and phone lie in different " +
      "clusters). Absent when every field was honoured.",
    optional: true,
    example: "phoneNumber=blocked",
  },
  [BOOKMARK_HEADER]: {
    description:
      "A D1 bookmark covering this answer (and the write it made). Send it back on the next request to read your own writes.",
  },
} as const satisfies Record<string, HeaderDoc>;

/** A documented response header. */
export type HeaderName = keyof typeof RESPONSE_HEADERS;

/**
 * Response headers a browser script may read (CORS): the request id for support, the
 * fields the merge protection left out, what a 401, 429 or 503 tells the caller to do,
 * and the bookmark to send back.
 */
export const CORS_EXPOSED_HEADERS: readonly HeaderName[] = [
  REQUEST_ID_HEADER,
  IGNORED_HEADER,
  RETRY_AFTER_HEADER,
  WWW_AUTHENTICATE_HEADER,
  BOOKMARK_HEADER,
];

/** Request headers a browser script may send (CORS preflight). */
export const CORS_REQUEST_HEADERS: readonly string[] = [
  "Authorization",
  "Content-Type",
  REQUEST_ID_HEADER,
  BOOKMARK_HEADER,
];

/**
 * The headers of a webhook delivery (Standard Webhooks): the delivery's id, the same on
 * every retry of it; the attempt's time in Unix seconds; and `v1,<base64 HMAC-SHA256>` of
 * `<id>.<timestamp>.<body>` under the key of `WEBHOOK_SECRET`.
 */
export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";

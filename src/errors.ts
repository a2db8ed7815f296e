/** One problem with a request field, as reported in the `issues` array of a 400. */
export type FieldIssue = { path: string; message: string };

/**
 * The one error the service throws on purpose. Anything else that reaches the
 * router's error handler is unexpected: it is answered as a bare 500, and the
 * request log records what it was.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { issues?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** The `code` of the 500 answered for anything that is not an HttpError. */
export const INTERNAL_ERROR = "internal_error";

/** The spread of a 503's `Retry-After`, in whole seconds. */
const RETRY_AFTER_SECONDS = { min: 1, max: 3 } as const;

/**
 * Storage or coordination failed after retries, or an object is too busy: the caller
 * should try again shortly. `Retry-After` is jittered, so that callers refused together
 * do not all come back in the same second.
 */
export function serviceUnavailable(message: string): HttpError {
  const { min, max } = RETRY_AFTER_SECONDS;
  const seconds = min + Math.floor(Math.random() * (max - min + 1));
  return new HttpError(503, "service_unavailable", message, { headers: { "Retry-After": String(seconds) } });
}

/** The contact, or the values, asked about are not (or no longer) stored. */
export function contactNotFound(message: string): HttpError {
  return new HttpError(404, "contact_not_found", message);
}

/** Turns any thrown value into the JSON error envelope of docs/contract.md, never a stack trace. */
export function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) {
    const { issues, headers } = err.extra;
    return Response.json(
      { error: { code: err.code, message: err.message, ...(issues ? { issues } : {}) } },
      { status: err.status, headers },
    );
  }
  return Response.json(
    { error: { code: INTERNAL_ERROR, message: "The server failed to handle this request." } },
    { status: 500 },
  );
}

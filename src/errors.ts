import { ERRORS, type ErrorCode, type ErrorHeaders, type FieldIssue } from "./contract/errors";
import type { GraphLink } from "./contract/graph";
import { RETRY_AFTER_HEADER } from "./contract/headers";

/** What a throw site may add to a catalogued error: another wording, the field issues, header values. */
export type FailOptions<TCode extends ErrorCode> = {
  /** Defaults to the catalogue's message; pass one of its `variants` for another wording. */
  message?: string;
  issues?: FieldIssue[];
  /** The links that explain the error, for a code whose catalogue entry carries `path`. */
  path?: GraphLink[];
  /** Values of the headers the catalogue lists for `code`. */
  headers?: Partial<Record<ErrorHeaders<TCode>, string>>;
};

/**
 * The one error the service throws on purpose, always of a code of the catalogue
 * (src/contract/errors.ts). Anything else that reaches the router's error handler is
 * unexpected: it is answered as a bare 500, and the request log records what it was.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly issues: FieldIssue[] | undefined;
  readonly path: GraphLink[] | undefined;
  readonly headers: Record<string, string> | undefined;

  private constructor(
    readonly code: ErrorCode,
    { message, issues, path, headers }: FailOptions<ErrorCode>,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = "HttpError";
    this.status = ERRORS[code].status;
    this.issues = issues;
    this.path = path;
    this.headers = headers;
  }

  /** The error of catalogue code `code`, with its status and (unless overridden) message. */
  static of<TCode extends ErrorCode>(code: TCode, options: FailOptions<TCode> = {}): HttpError {
    return new HttpError(code, options);
  }
}

/** `HttpError.of`, to read as `throw fail("contact_not_found")`. */
export function fail<TCode extends ErrorCode>(code: TCode, options: FailOptions<TCode> = {}): HttpError {
  return HttpError.of(code, options);
}

/** The spread of a 503's `Retry-After`, in whole seconds. */
const RETRY_AFTER_SECONDS = { min: 1, max: 3 } as const;

/**
 * Storage or coordination failed after retries, or an object is too busy: the caller
 * should try again shortly. `Retry-After` is jittered, so that callers refused together
 * do not all come back in the same second.
 */
export function serviceUnavailable(message?: string): HttpError {
  const { min, max } = RETRY_AFTER_SECONDS;
  const seconds = min + Math.floor(Math.random() * (max - min + 1));
  return fail("service_unavailable", { message, headers: { [RETRY_AFTER_HEADER]: String(seconds) } });
}

/** Turns any thrown value into the JSON error envelope of docs/contract.md, never a stack trace. */
export function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) {
    const { issues, path, headers } = err;
    return Response.json(
      { error: { code: err.code, message: err.message, ...(issues ? { issues } : {}), ...(path ? { path } : {}) } },
      { status: err.status, headers },
    );
  }
  return Response.json(
    { error: { code: "internal_error", message: ERRORS.internal_error.message } },
    { status: ERRORS.internal_error.status },
  );
}

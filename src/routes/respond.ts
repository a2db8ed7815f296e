import type { HttpError } from "../errors";
import { bookmarkHeaders } from "../http/bookmark";
import { ignoredHeaders } from "../http/identifiers";
import { noteDone } from "../http/request-log";
import type { UseCaseResult } from "../usecases/result";

/**
 * The one place a use case's result becomes the answer and the request log's facts: its
 * outcome, storage work and ignored fields are noted (after those the screening dropped),
 * and a 200 is answered with its body, its bookmark and every field left out in
 * `Identity-Ignored`. A result without an answer throws `missing()` (the route's 404).
 */
export function respond<T>(request: Request, result: UseCaseResult<T>, missing?: () => HttpError): Response {
  const ignored = noteDone(request, result);
  if (result.answer === undefined) {
    throw missing?.() ?? new Error("a use case gave no answer, and its route no error for that");
  }
  return Response.json(result.answer, { headers: { ...bookmarkHeaders(result.bookmark), ...ignoredHeaders(ignored) } });
}

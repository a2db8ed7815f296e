/**
 * A copy of `response` whose headers `edit` may change. Copying is needed because a
 * response that came from `fetch()` has immutable headers; for our own it is cheap.
 */
export function withHeaders(response: Response, edit: (headers: Headers) => void): Response {
  const copy = new Response(response.body, response);
  edit(copy.headers);
  return copy;
}

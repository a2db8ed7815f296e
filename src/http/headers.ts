/**
 * `response` with its headers changed by `edit`. Our own responses have mutable
 * headers and are edited in place; one with immutable headers (from `fetch()`) is
 * copied first.
 */
export function withHeaders(response: Response, edit: (headers: Headers) => void): Response {
  try {
    edit(response.headers);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    edit(copy.headers);
    return copy;
  }
}

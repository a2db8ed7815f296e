import { BOOKMARK_HEADER } from "../contract/headers";
import { fail } from "../errors";

// D1 bookmarks are hex groups, e.g. 00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683.
// Checked here so that a mangled header is the caller's 400, not D1's error and our 503.
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{16,128}$/i;

/**
 * The bookmark the request sent back, undefined when it sent none (or an empty one,
 * as a client echoing a missing header would).
 * @throws HttpError 400 `invalid_bookmark` when the header is not a D1 bookmark.
 */
export function requestBookmark(request: Request): string | undefined {
  const value = request.headers.get(BOOKMARK_HEADER)?.trim();
  if (value === undefined || value === "") return undefined;
  if (!BOOKMARK.test(value)) {
    throw fail("invalid_bookmark");
  }
  return value;
}

/** Headers of an answer that read or wrote D1: the bookmark to send back, when D1 gave one. */
export function bookmarkHeaders(bookmark: string | null): Record<string, string> {
  return bookmark === null ? {} : { [BOOKMARK_HEADER]: bookmark };
}

import { protection } from "../config";
import { lookupContact } from "../durable/lookup";
import { fail } from "../errors";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { ignoredHeaders, screenedIdentifiers } from "../http/identifiers";
import { noteIgnored, noteStorage } from "../http/request-log";

/**
 * `POST /lookup`: the cluster of an email or phone, from one D1 read in the Worker:
 * no object is called and nothing is written. Blocked identifiers are dropped first,
 * as `/identify` drops them.
 */
export async function lookup(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  // Before the body is read: a malformed configuration fails every request closed (500).
  const { blockList, limits } = protection(env);
  const { identifiers, ignored } = await screenedIdentifiers(request, blockList);
  const { answer, d1, bookmark: read } = await lookupContact(env, identifiers, limits, bookmark);
  noteStorage(request, d1);
  if (!answer) throw fail("contact_not_found");
  const all = [...ignored, ...answer.ignored];
  noteIgnored(request, all);
  return Response.json(answer.response, { headers: { ...bookmarkHeaders(read), ...ignoredHeaders(all) } });
}

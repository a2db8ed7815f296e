import { protection } from "../config";
import { identifyContact } from "../durable/identify";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { ignoredHeaders, screenedIdentifiers } from "../http/identifiers";
import { requestFacts } from "../http/request-facts";
import { noteIdentified, noteIgnored } from "../http/request-log";

/** `POST /identify`: validate, normalise and screen, reconcile, answer with the cluster. */
export async function identify(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  // Before the body is read: a malformed configuration fails every request closed (500).
  const { blockList, limits } = protection(env);
  const { identifiers, ignored } = await screenedIdentifiers(request, blockList);
  const identified = await identifyContact(env, identifiers, requestFacts(request).requestId, limits, bookmark);
  noteIdentified(request, identified);
  const all = [...ignored, ...identified.ignored];
  noteIgnored(request, all);
  return Response.json(identified.response, {
    headers: { ...bookmarkHeaders(identified.bookmark), ...ignoredHeaders(all) },
  });
}

import { identifyContact } from "../durable/identify";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { ignoredHeaders, screenedIdentifiers } from "../http/identifiers";
import { requestFacts } from "../http/request-facts";
import { noteIdentified } from "../http/request-log";

/** `POST /identify`: validate, normalise and screen, reconcile, answer with the cluster. */
export async function identify(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  const { identifiers, ignored } = await screenedIdentifiers(request, env);
  const identified = await identifyContact(env, identifiers, requestFacts(request).requestId, bookmark);
  noteIdentified(request, identified);
  return Response.json(identified.response, {
    headers: { ...bookmarkHeaders(identified.bookmark), ...ignoredHeaders(ignored) },
  });
}

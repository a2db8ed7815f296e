import { identifyContact } from "../durable/identify";
import { readIdentifiers } from "../http/body";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { noteIdentified, noteIdentifiers } from "../http/request-log";

/** `POST /identify`: validate and normalise, reconcile, answer with the cluster. */
export async function identify(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  const who = await readIdentifiers(request);
  noteIdentifiers(request, who);
  const identified = await identifyContact(env, who, bookmark);
  noteIdentified(request, identified);
  return Response.json(identified.response, { headers: bookmarkHeaders(identified.bookmark) });
}

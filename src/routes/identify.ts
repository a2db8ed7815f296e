import { protection } from "../config";
import { requestBookmark } from "../http/bookmark";
import { screenedIdentifiers } from "../http/identifiers";
import { requestFacts } from "../http/request-facts";
import { identifyContact } from "../usecases/identify";
import { respond } from "./respond";

/** `POST /identify`: validate, normalise and screen, reconcile, answer with the cluster. */
export async function identify(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  // Before the body is read: a malformed configuration fails every request closed (500).
  const { blockList, limits } = protection(env);
  const identifiers = await screenedIdentifiers(request, blockList);
  return respond(request, await identifyContact(env, identifiers, requestFacts(request).requestId, limits, bookmark));
}

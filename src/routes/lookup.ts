import { protection } from "../config";
import { fail } from "../errors";
import { requestBookmark } from "../http/bookmark";
import { screenedIdentifiers } from "../http/identifiers";
import { lookupContact } from "../usecases/lookup";
import { respond } from "./respond";

/**
 * `POST /lookup`: the cluster of an email or phone, from one D1 read in the Worker:
 * no object is called and nothing is written. Blocked identifiers are dropped first,
 * as `/identify` drops them.
 */
export async function lookup(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  // Before the body is read: a malformed configuration fails every request closed (500).
  const { blockList, limits } = protection(env);
  const identifiers = await screenedIdentifiers(request, blockList);
  return respond(request, await lookupContact(env, identifiers, limits, bookmark), () => fail("contact_not_found"));
}

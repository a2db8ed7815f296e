import { protection } from "../config";
import { eraseContacts } from "../durable/erase";
import { fail } from "../errors";
import { readIdentifiers } from "../http/body";
import { bookmarkHeaders } from "../http/bookmark";
import { requestFacts } from "../http/request-facts";
import { noteIdentifiers, noteStorage } from "../http/request-log";

/**
 * `POST /erase` (admin): removes an email and/or a phone from every contact holding them,
 * deletes contacts left with neither, and answers the deleted ids and the clusters left.
 */
export async function erase(request: Request, env: Env): Promise<Response> {
  const values = await readIdentifiers(request);
  noteIdentifiers(request, values);
  // Read before anything is erased: a malformed setting fails closed with nothing written.
  const { limits } = protection(env);
  const { result, d1, objectCalls, bookmark } = await eraseContacts(
    env,
    { values },
    requestFacts(request).requestId,
    limits,
  );
  noteStorage(request, d1, objectCalls);
  if (!result) throw fail("contact_not_found");
  return Response.json(result, { headers: bookmarkHeaders(bookmark) });
}

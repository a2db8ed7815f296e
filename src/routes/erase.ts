import { protection } from "../config";
import { fail } from "../errors";
import { readIdentifiers } from "../http/body";
import { requestFacts } from "../http/request-facts";
import { noteIdentifiers } from "../http/request-log";
import { eraseValues } from "../usecases/erase";
import { respond } from "./respond";

/**
 * `POST /erase` (admin): removes an email and/or a phone from every contact holding them,
 * deletes contacts left with neither, and answers the deleted ids and the clusters left.
 */
export async function erase(request: Request, env: Env): Promise<Response> {
  const values = await readIdentifiers(request);
  noteIdentifiers(request, values);
  // Read before anything is erased: a malformed setting fails closed with nothing written.
  const { limits } = protection(env);
  const result = await eraseValues(env, values, requestFacts(request).requestId, limits);
  return respond(request, result, () => fail("contact_not_found"));
}

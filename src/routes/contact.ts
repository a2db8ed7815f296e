import type { IRequest } from "itty-router";
import { protection } from "../config";
import { ERRORS } from "../contract/errors";
import { eraseContacts } from "../durable/erase";
import { contactCluster } from "../durable/lookup";
import { fail } from "../errors";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { readContactId } from "../http/params";
import { requestFacts } from "../http/request-facts";
import { noteStorage } from "../http/request-log";

/** `GET /contacts/{id}` (admin): the cluster of contact `id`, from one D1 read in the Worker. */
export async function getContact(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const { answer, d1, bookmark } = await contactCluster(env, id, protection(env).limits, requestBookmark(request));
  noteStorage(request, d1);
  if (!answer) throw fail("contact_not_found", { message: ERRORS.contact_not_found.variants.id(id) });
  return Response.json(answer, { headers: bookmarkHeaders(bookmark) });
}

/** `DELETE /contacts/{id}` (admin): erases the whole cluster of contact `id`, every row of it. */
export async function deleteContact(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  // Read before anything is erased: a malformed setting fails closed with nothing written.
  const { limits } = protection(env);
  const { result, d1, objectCalls, bookmark } = await eraseContacts(
    env,
    { cluster: id },
    requestFacts(request).requestId,
    limits,
  );
  noteStorage(request, d1, objectCalls);
  if (!result) throw fail("contact_not_found", { message: ERRORS.contact_not_found.variants.id(id) });
  return Response.json({ erasedContactIds: result.erasedContactIds }, { headers: bookmarkHeaders(bookmark) });
}

import type { IRequest } from "itty-router";
import { protection } from "../config";
import { ERRORS } from "../contract/errors";
import { fail } from "../errors";
import { requestBookmark } from "../http/bookmark";
import { readContactId } from "../http/params";
import { requestFacts } from "../http/request-facts";
import { eraseCluster } from "../usecases/erase";
import { contactCluster } from "../usecases/lookup";
import { respond } from "./respond";

const noSuchContact = (id: number) => () =>
  fail("contact_not_found", { message: ERRORS.contact_not_found.variants.id(id) });

/** `GET /contacts/{id}` (admin): the cluster of contact `id`, from one D1 read in the Worker. */
export async function getContact(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const result = await contactCluster(env, id, protection(env).limits, requestBookmark(request));
  return respond(request, result, noSuchContact(id));
}

/** `DELETE /contacts/{id}` (admin): erases the whole cluster of contact `id`, every row of it. */
export async function deleteContact(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  // Read before anything is erased: a malformed setting fails closed with nothing written.
  const { limits } = protection(env);
  return respond(request, await eraseCluster(env, id, requestFacts(request).requestId, limits), noSuchContact(id));
}

import type { IRequest } from "itty-router";
import { protection } from "../config";
import { ERRORS } from "../contract/errors";
import { fail } from "../errors";
import { requestBookmark } from "../http/bookmark";
import { readContactId, readSeparationId, readToContactId } from "../http/params";
import { contactGraph, contactSeparations, explainLink, liftSeparation } from "../usecases/repair";
import { respond } from "./respond";

const noSuchContact = (id: number) => () =>
  fail("contact_not_found", { message: ERRORS.contact_not_found.variants.id(id) });

/** `GET /contacts/{id}/graph` (admin): the cluster of `id` as contacts and the links between them. */
export async function getGraph(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const result = await contactGraph(env, id, protection(env).limits, requestBookmark(request));
  return respond(request, result, noSuchContact(id));
}

/** `GET /contacts/{id}/explain?to=` (admin): a shortest chain of links from `id` to `to`. */
export async function getExplain(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const to = readToContactId(request);
  const result = await explainLink(env, id, to, protection(env).limits, requestBookmark(request));
  return respond(request, result, noSuchContact(id));
}

/** `GET /contacts/{id}/separations` (admin): the standing separations touching the cluster of `id`. */
export async function getSeparations(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const result = await contactSeparations(env, id, protection(env).limits, requestBookmark(request));
  return respond(request, result, noSuchContact(id));
}

/** `DELETE /separations/{id}` (admin): lifts one separation, and answers it as it stood. */
export async function deleteSeparation(request: IRequest, env: Env): Promise<Response> {
  const id = readSeparationId(request);
  return respond(request, await liftSeparation(env, id), () => fail("separation_not_found"));
}

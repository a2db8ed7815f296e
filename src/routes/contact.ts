import type { IRequest } from "itty-router";
import { contactCluster } from "../durable/lookup";
import { contactNotFound } from "../errors";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { readContactId } from "../http/params";
import { noteRead } from "../http/request-log";

/** `GET /contacts/{id}` (admin): the cluster of contact `id`, from one D1 read in the Worker. */
export async function getContact(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const { answer, d1, bookmark } = await contactCluster(env, id, requestBookmark(request));
  noteRead(request, d1);
  if (!answer) throw contactNotFound(`No contact has id ${id}.`);
  return Response.json(answer, { headers: bookmarkHeaders(bookmark) });
}

import type { IRequest } from "itty-router";
import { contactCluster } from "../durable/lookup";
import { contactNotFound } from "../errors";
import { readContactId } from "../http/params";
import { noteRead } from "../http/request-log";

/** `GET /contacts/{id}` (admin): the cluster of contact `id`, from one D1 read in the Worker. */
export async function getContact(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const { answer, d1 } = await contactCluster(env, id);
  noteRead(request, d1);
  if (!answer) throw contactNotFound(`No contact has id ${id}.`);
  return Response.json(answer);
}

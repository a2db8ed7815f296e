import { identifyContact } from "../durable/identify";
import { readIdentifiers } from "../http/body";
import { noteIdentified, noteIdentifiers } from "../http/request-log";

/** `POST /identify`: validate and normalise, reconcile, answer with the cluster. */
export async function identify(request: Request, env: Env): Promise<Response> {
  const who = await readIdentifiers(request);
  noteIdentifiers(request, who);
  const identified = await identifyContact(env, who);
  noteIdentified(request, identified);
  return Response.json(identified.response);
}

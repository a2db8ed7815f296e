import type { IRequest } from "itty-router";
import { ERRORS } from "../contract/errors";
import { contactHistory } from "../durable/lookup";
import { fail } from "../errors";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { readContactId } from "../http/params";
import { noteStorage } from "../http/request-log";

/**
 * `GET /contacts/{id}/history` (admin): what happened to the cluster of `id` and the clusters
 * merged into it, oldest first; readable by a former contact id after an erasure.
 */
export async function getHistory(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const { answer, d1, bookmark } = await contactHistory(env, id, requestBookmark(request));
  noteStorage(request, d1);
  if (!answer) throw fail("contact_not_found", { message: ERRORS.contact_not_found.variants.history(id) });
  return Response.json({ events: answer }, { headers: bookmarkHeaders(bookmark) });
}

import type { IRequest } from "itty-router";
import { ERRORS } from "../contract/errors";
import { fail } from "../errors";
import { requestBookmark } from "../http/bookmark";
import { readContactId, readPage } from "../http/params";
import { contactHistory } from "../usecases/lookup";
import { respond } from "./respond";

/**
 * `GET /contacts/{id}/history?after=&limit=` (admin): what happened to the cluster of `id` and
 * the clusters merged into it, oldest first, a page at a time like the feed; readable by a
 * former contact id after an erasure.
 */
export async function getHistory(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const result = await contactHistory(env, id, readPage(request), requestBookmark(request));
  return respond(request, result, () =>
    fail("contact_not_found", { message: ERRORS.contact_not_found.variants.history(id) }),
  );
}

import type { IRequest } from "itty-router";
import { requestBookmark } from "../http/bookmark";
import { readPage } from "../http/params";
import { readFeed } from "../usecases/feed";
import { respond } from "./respond";

/** `GET /events?after=&limit=` (feed and admin tokens): the change feed, one page. */
export async function getEvents(request: IRequest, env: Env): Promise<Response> {
  const { afterId, limit } = readPage(request);
  return respond(request, await readFeed(env, afterId, limit, requestBookmark(request)));
}

import { lookupContact } from "../durable/lookup";
import { contactNotFound } from "../errors";
import { readIdentifiers } from "../http/body";
import { bookmarkHeaders, requestBookmark } from "../http/bookmark";
import { noteIdentifiers, noteRead } from "../http/request-log";

/**
 * `POST /lookup`: the cluster of an email or phone, from one D1 read in the Worker:
 * no object is called and nothing is written.
 */
export async function lookup(request: Request, env: Env): Promise<Response> {
  const bookmark = requestBookmark(request);
  const who = await readIdentifiers(request);
  noteIdentifiers(request, who);
  const { answer, d1, bookmark: read } = await lookupContact(env, who, bookmark);
  noteRead(request, d1);
  if (!answer) throw contactNotFound("No contact holds this email or phone number.");
  const headers = bookmarkHeaders(read);
  if (answer.ignored.length) headers["Identity-Ignored"] = answer.ignored.join(",");
  return Response.json(answer.response, { headers });
}

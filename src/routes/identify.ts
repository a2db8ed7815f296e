import * as v from "valibot";
import { IdentifyRequestSchema } from "../domain/request";
import { identifyContact } from "../durable/identify";
import { HttpError } from "../errors";
import { readJsonBody } from "../http/body";
import { noteIdentified, noteIdentifiers } from "../http/request-log";

/** `POST /identify`: validate and normalise, reconcile, answer with the cluster. */
export async function identify(request: Request, env: Env): Promise<Response> {
  const parsed = v.safeParse(IdentifyRequestSchema, await readJsonBody(request));
  if (!parsed.success) {
    throw new HttpError(400, "invalid_request", "The request body is invalid.", {
      issues: parsed.issues.map((issue) => ({
        path: v.getDotPath(issue) ?? "",
        message: issue.message,
      })),
    });
  }
  noteIdentifiers(request, parsed.output);
  const identified = await identifyContact(env, parsed.output);
  noteIdentified(request, identified);
  return Response.json(identified.response);
}

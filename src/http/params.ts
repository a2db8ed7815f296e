import type { IRequest } from "itty-router";
import * as v from "valibot";
import { ContactIdSchema } from "../domain/request";
import { HttpError } from "../errors";

/**
 * The `{id}` of a `/contacts/{id}` path, as a number.
 * @throws HttpError 400 `invalid_request` when it is not a positive integer.
 */
export function readContactId(request: IRequest): number {
  const parsed = v.safeParse(ContactIdSchema, request.params.id);
  if (!parsed.success) {
    throw new HttpError(400, "invalid_request", "The contact id is invalid.", {
      issues: parsed.issues.map((issue) => ({ path: "id", message: issue.message })),
    });
  }
  return parsed.output;
}

import type { IRequest } from "itty-router";
import * as v from "valibot";
import { ERRORS } from "../contract/errors";
import { ContactIdSchema } from "../contract/request";
import { fail } from "../errors";

/**
 * The `{id}` of a `/contacts/{id}` path, as a number.
 * @throws HttpError 400 `invalid_request` when it is not a positive integer.
 */
export function readContactId(request: IRequest): number {
  const parsed = v.safeParse(ContactIdSchema, request.params.id);
  if (!parsed.success) {
    throw fail("invalid_request", {
      message: ERRORS.invalid_request.variants.contactId,
      issues: parsed.issues.map((issue) => ({ path: "id", message: issue.message })),
    });
  }
  return parsed.output;
}

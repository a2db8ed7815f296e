import * as v from "valibot";
import type { HistoryEvent, IdentifyResponse } from "../domain/contact";
import { type FieldIssue, INTERNAL_ERROR } from "../errors";

// The shapes the Worker answers with, in valibot so that the OpenAPI document derives
// their JSON Schema the same way it derives the request's. The code builds these bodies
// from plain types: where one is exported, the schema `satisfies` it, so a field added to
// it no longer compiles here. The contract test (test/http/openapi.test.ts) holds the real
// responses to these schemas, and the objects are strict: a field the Worker sends or
// stops sending without the document saying so fails it.

const ContactId = v.pipe(v.number(), v.integer(), v.minValue(1));

/** `200` of `POST /identify` (docs/contract.md, "Response"). */
export const IdentifyResponseSchema = v.pipe(
  v.strictObject({
    primaryContactId: v.pipe(ContactId, v.description("The id of the cluster's oldest contact.")),
    emails: v.pipe(
      v.array(v.string()),
      v.description("Unique, normalised; the primary's own email first, then the others in creation order."),
    ),
    phoneNumbers: v.pipe(
      v.array(v.string()),
      v.description("Unique, normalised; the primary's own phone first, then the others in creation order."),
    ),
    secondaryContactIds: v.pipe(v.array(ContactId), v.description("Every other contact of the cluster, ascending.")),
  }),
  v.description("The whole cluster the request's identifiers belong to, after reconciliation."),
) satisfies v.GenericSchema<IdentifyResponse>;

/** `200` of `DELETE /contacts/{id}`. */
export const DeleteContactResponseSchema = v.pipe(
  v.strictObject({
    erasedContactIds: v.pipe(
      v.array(ContactId),
      v.description("Every contact of the cluster, now deleted, ascending."),
    ),
  }),
  v.description("The cluster is erased: every row of it is deleted."),
);

/** `200` of `POST /erase`. */
export const EraseResponseSchema = v.pipe(
  v.strictObject({
    erasedContactIds: v.pipe(
      v.array(ContactId),
      v.description("Contacts deleted because the erasure left them with neither an email nor a phone, ascending."),
    ),
    clusters: v.pipe(
      v.array(IdentifyResponseSchema),
      v.description(
        "What remains of every cluster that held a value, re-formed into connected clusters (shared values and " +
          "remaining bridges), each under its oldest contact; by primary id.",
      ),
    ),
  }),
  v.description("The values are erased from every contact that held them."),
);

/** `200` of `GET /contacts/{id}/history`. */
export const HistoryResponseSchema = v.pipe(
  v.strictObject({
    events: v.array(
      v.strictObject({
        at: v.pipe(v.string(), v.description("When the change was committed (ISO 8601, UTC).")),
        kind: v.pipe(
          v.picklist(["created", "linked", "merged", "split", "erased"]),
          v.description(
            "`created`: a new primary; `linked`: a new secondary; `merged`: clusters folded under the primary " +
              "(`contactIds`: their former primaries); `split`: a cluster re-formed after an erasure " +
              "(`contactIds`: the members of one resulting cluster); `erased`: values erased or contacts deleted.",
          ),
        ),
        primaryContactId: ContactId,
        contactIds: v.array(ContactId),
        requestId: v.pipe(v.string(), v.description("The `X-Request-Id` of the request that made the change.")),
      }),
    ),
  }),
  v.description("Oldest first; ids only, never an email or a phone."),
) satisfies v.GenericSchema<{ events: HistoryEvent[] }>;

/** `200` of `GET /health`. */
export const HealthResponseSchema = v.strictObject({ status: v.literal("healthy") });

export const FieldIssueSchema = v.pipe(
  v.strictObject({
    path: v.pipe(v.string(), v.description("Dot path of the field, empty for the body as a whole.")),
    message: v.string(),
  }),
  v.description("One problem with one request field."),
) satisfies v.GenericSchema<FieldIssue>;

/**
 * The error envelope of src/errors.ts, narrowed to the codes one status carries, so a
 * generated client can switch on `error.code` per status.
 */
function errorBody<const TCodes extends readonly [string, ...string[]]>(codes: TCodes) {
  return v.strictObject({
    error: v.strictObject({
      code: v.picklist(codes),
      message: v.pipe(v.string(), v.description("For people; may change. Switch on `code`.")),
      issues: v.optional(v.array(FieldIssueSchema)),
    }),
  });
}

/** Every error status the Worker answers with, and the codes each carries. */
export const ErrorSchemas = {
  BadRequestError: v.pipe(
    errorBody(["invalid_request", "invalid_json", "invalid_body", "invalid_bookmark"]),
    v.description(
      "`invalid_request`: the body is JSON but breaks the request schema, with one entry in `issues` " +
        "per problem; `invalid_json`: not JSON, or nested too deep; `invalid_body`: not UTF-8, or unreadable; " +
        "`invalid_bookmark`: the `Identity-Bookmark` header is not a bookmark this service returned.",
    ),
  ),
  UnauthorizedError: errorBody(["unauthorized"]),
  NotFoundError: errorBody(["not_found"]),
  ForbiddenError: errorBody(["forbidden"]),
  ContactNotFoundError: errorBody(["contact_not_found"]),
  MethodNotAllowedError: errorBody(["method_not_allowed"]),
  PayloadTooLargeError: errorBody(["payload_too_large"]),
  IdentifierBlockedError: errorBody(["identifier_blocked"]),
  RateLimitedError: errorBody(["rate_limited"]),
  InternalError: errorBody([INTERNAL_ERROR]),
  ServiceUnavailableError: errorBody(["service_unavailable"]),
} as const;

/** The inside of the envelope a status answers with: what its examples must look like. */
export type ErrorDetail<TName extends keyof typeof ErrorSchemas> = v.InferOutput<(typeof ErrorSchemas)[TName]>["error"];

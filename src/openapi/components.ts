// The reusable parts of the OpenAPI document: named schemas, headers, responses, parameters.
import { toJsonSchemaDefs } from "@valibot/to-json-schema";
import type { OpenAPIV3_1 } from "openapi-types";
import { DeliveryStatusSchema, WebhookPayloadSchema } from "../contract/delivery";
import { ERRORS, type ErrorCode, type ErrorDetail, type ErrorSpec, type FieldIssue } from "../contract/errors";
import { EVENT_SCHEMA_NAMES, EventSchema, EventSchemas } from "../contract/events";
import { FEED_PAGE, FeedPageSchema } from "../contract/feed";
import {
  ExplainResponseSchema,
  GraphResponseSchema,
  SeparationSchema,
  SeparationsResponseSchema,
  UnmergeRequestSchema,
} from "../contract/graph";
import {
  BOOKMARK_HEADER,
  type HeaderName,
  IGNORED_HEADER,
  RESPONSE_HEADERS,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from "../contract/headers";
import { ContactIdSchema, MAX_BODY_BYTES } from "../contract/request";
import {
  DeleteContactResponseSchema,
  EraseResponseSchema,
  ErrorSchemas,
  FieldIssueSchema,
  HealthResponseSchema,
  HistoryResponseSchema,
  IdentifyResponseSchema,
  UnmergeResponseSchema,
} from "../contract/responses";
import { IdentifyRequestSchema } from "../domain/normalise";
import { INVALID_REQUEST } from "./examples";

/** Every named schema of the document, in valibot: components.schemas is generated from these. */
const SCHEMAS = {
  IdentifyRequest: IdentifyRequestSchema,
  ContactId: ContactIdSchema,
  IdentifyResponse: IdentifyResponseSchema,
  EraseResponse: EraseResponseSchema,
  DeleteContactResponse: DeleteContactResponseSchema,
  HistoryResponse: HistoryResponseSchema,
  GraphResponse: GraphResponseSchema,
  ExplainResponse: ExplainResponseSchema,
  UnmergeRequest: UnmergeRequestSchema,
  UnmergeResponse: UnmergeResponseSchema,
  Separation: SeparationSchema,
  SeparationsResponse: SeparationsResponseSchema,
  DeliveryStatus: DeliveryStatusSchema,
  FeedPage: FeedPageSchema,
  ...EventSchemas,
  Event: EventSchema,
  WebhookPayload: WebhookPayloadSchema,
  HealthResponse: HealthResponseSchema,
  FieldIssue: FieldIssueSchema,
  ...ErrorSchemas,
};
type SchemaName = keyof typeof SCHEMAS;

export const schemaRef = (name: SchemaName): OpenAPIV3_1.ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

/**
 * components.schemas, as OpenAPI 3.1 takes them: JSON Schema 2020-12. `input` mode describes
 * what a caller sends (a pipe is converted up to its first transform, so the request's
 * normalisation is left to the descriptions). `throw` makes a schema that cannot be
 * converted fail the spec tests instead of silently vanishing from the document; the one
 * exception is the request's cross-field `check` (email or phone), which JSON Schema cannot
 * say exactly since a blank string counts as absent: its description states it.
 */
export function componentSchemas(): Record<string, OpenAPIV3_1.SchemaObject> {
  const converted = toJsonSchemaDefs(SCHEMAS, {
    target: "draft-2020-12",
    typeMode: "input",
    errorMode: "throw",
    ignoreActions: ["check"],
    overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  });
  // The converter's JsonSchema and openapi-types' SchemaObject both model JSON Schema;
  // they differ only in how they spell optional keywords.
  const schemas = converted as Record<string, OpenAPIV3_1.SchemaObject>;
  // The converter writes a variant as a bare oneOf: say which `kind` picks which schema.
  const mapping = Object.fromEntries(
    Object.entries(EVENT_SCHEMA_NAMES).map(([kind, name]) => [kind, `#/components/schemas/${name}`]),
  );
  schemas.Event = { ...schemas.Event, discriminator: { propertyName: "kind", mapping } };
  return schemas;
}

/** components.headers, by the name each is sent under, from the contract's descriptions. */
export const HEADERS = Object.fromEntries(
  Object.entries(RESPONSE_HEADERS).map(([name, doc]): [string, OpenAPIV3_1.HeaderObject] => [
    name,
    {
      description: doc.description,
      required: !("optional" in doc && doc.optional),
      schema: { type: "string" },
      ...("example" in doc ? { example: doc.example } : {}),
    },
  ]),
);

/** Response headers by reference: every answer carries `X-Request-Id`, some statuses more. */
export const headerRefs = (...names: HeaderName[]): Record<string, OpenAPIV3_1.ReferenceObject> =>
  Object.fromEntries(
    ["X-Request-Id" as const, ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]),
  );

/** An example of the envelope's inside for `code`: the catalogue's message unless another is given. */
const example = (code: ErrorCode, message: string = ERRORS[code].message, issues?: FieldIssue[]): ErrorDetail => ({
  code,
  message,
  ...(issues ? { issues } : {}),
});

/**
 * A response of the error envelope, one example per name, all of codes of one error schema;
 * with the headers the catalogue says those codes carry.
 */
function errorResponse(description: string, examples: Record<string, ErrorDetail>): OpenAPIV3_1.ResponseObject {
  const codes = Object.values(examples).map((error) => error.code);
  const [first = "internal_error"] = codes;
  const headers = new Set(
    codes.flatMap((code): readonly HeaderName[] => {
      const spec: ErrorSpec = ERRORS[code];
      return spec.headers ?? [];
    }),
  );
  return {
    description,
    headers: headerRefs(...headers),
    content: {
      "application/json": {
        schema: schemaRef(ERRORS[first].schema),
        examples: Object.fromEntries(Object.entries(examples).map(([name, error]) => [name, { value: { error } }])),
      },
    },
  };
}

export const RESPONSES = {
  BadRequest: errorResponse("The body is not valid JSON, or breaks the request schema.", {
    [INVALID_REQUEST.name]: INVALID_REQUEST.error,
    missingIdentifiers: example("invalid_request", undefined, [
      { path: "", message: "provide an email, a phoneNumber, or both" },
    ]),
    invalidJson: example("invalid_json"),
    invalidBody: example("invalid_body"),
    invalidBookmark: example("invalid_bookmark"),
  }),
  Unauthorized: errorResponse("Missing or unknown bearer token.", { unauthorized: example("unauthorized") }),
  NotFound: errorResponse("No route has this path.", { notFound: example("not_found") }),
  Forbidden: errorResponse(
    "A token on a route its scope does not cover: a caller's (`API_TOKENS`) on an admin route or on the feed, " +
      "a feed token (`FEED_TOKENS`) anywhere but `GET /events`.",
    {
      forbidden: example("forbidden"),
      forbiddenFeed: example("forbidden", ERRORS.forbidden.variants.feed),
      forbiddenFeedToken: example("forbidden", ERRORS.forbidden.variants.feedOnly),
    },
  ),
  ContactNotFound: errorResponse("No stored contact has this id, email or phone.", {
    contactNotFound: example("contact_not_found", ERRORS.contact_not_found.variants.id(42)),
  }),
  BadContactId: errorResponse("The contact id in the path is not a positive integer.", {
    invalidContactId: example("invalid_request", ERRORS.invalid_request.variants.contactId, [
      { path: "id", message: "id must be a positive integer" },
    ]),
  }),
  BadFeedQuery: errorResponse("`after` or `limit` is malformed.", {
    invalidCursor: example("invalid_cursor", undefined, [
      { path: "after", message: "after must be a cursor returned by this service" },
    ]),
    invalidLimit: example("invalid_limit", undefined, [
      { path: "limit", message: `limit must be a whole number from ${FEED_PAGE.min} to ${FEED_PAGE.max}` },
    ]),
  }),
  BadHistoryRequest: errorResponse("The contact id is not a positive integer, or `after` or `limit` is malformed.", {
    invalidContactId: example("invalid_request", ERRORS.invalid_request.variants.contactId, [
      { path: "id", message: "id must be a positive integer" },
    ]),
    invalidCursor: example("invalid_cursor", undefined, [
      { path: "after", message: "after must be a cursor returned by this service" },
    ]),
    invalidLimit: example("invalid_limit", undefined, [
      { path: "limit", message: `limit must be a whole number from ${FEED_PAGE.min} to ${FEED_PAGE.max}` },
    ]),
  }),
  BadExplainRequest: errorResponse("The contact id or the `to` query parameter is not a positive integer.", {
    invalidContactId: example("invalid_request", ERRORS.invalid_request.variants.contactId, [
      { path: "id", message: "id must be a positive integer" },
    ]),
    invalidTo: example("invalid_request", ERRORS.invalid_request.variants.to, [
      { path: "to", message: "to must be a positive integer" },
    ]),
  }),
  BadSeparationId: errorResponse("The separation id in the path is not a positive integer.", {
    invalidSeparationId: example("invalid_request", ERRORS.invalid_request.variants.separationId, [
      { path: "id", message: "id must be a positive integer" },
    ]),
  }),
  NotLinked: errorResponse("The two contacts are not in one cluster.", { notLinked: example("not_linked") }),
  StillLinked: errorResponse(
    "Other links still join the bridge's two contacts: `path` shows them; nothing was changed.",
    {
      stillLinked: {
        ...example("still_linked"),
        path: [{ from: 1, to: 2, via: "phoneNumber", value: "+919999999999" }],
      },
    },
  ),
  UnmergeNotFound: errorResponse("No live contact has this id, or the bridge is not in its cluster.", {
    contactNotFound: example("contact_not_found", ERRORS.contact_not_found.variants.id(42)),
    bridgeNotFound: example("bridge_not_found"),
  }),
  SeparationNotFound: errorResponse("No standing separation has this id.", {
    separationNotFound: example("separation_not_found"),
  }),
  MethodNotAllowed: errorResponse("The path exists but not with this method (`GET /identify`).", {
    methodNotAllowed: example("method_not_allowed", ERRORS.method_not_allowed.variants.allow("POST")),
  }),
  PayloadTooLarge: errorResponse(`The body is larger than ${MAX_BODY_BYTES} bytes.`, {
    payloadTooLarge: example("payload_too_large"),
  }),
  IdentifierBlocked: errorResponse(
    `Every identifier of the request is blocked (see \`${IGNORED_HEADER}\`); nothing was written.`,
    { identifierBlocked: example("identifier_blocked") },
  ),
  RateLimited: errorResponse("Too many requests from this caller.", { rateLimited: example("rate_limited") }),
  InternalError: errorResponse(
    "An unexpected failure, or a malformed merge protection variable (the Worker fails closed).",
    { internalError: example("internal_error") },
  ),
  ServiceUnavailable: errorResponse("Storage or coordination failed after retries; nothing was written.", {
    serviceUnavailable: example("service_unavailable"),
  }),
} satisfies Record<string, OpenAPIV3_1.ResponseObject>;
type ResponseName = keyof typeof RESPONSES;

export const responseRef = (name: ResponseName): OpenAPIV3_1.ReferenceObject => ({
  $ref: `#/components/responses/${name}`,
});

/** What any operation behind the bearer token may answer besides its own: refused, limited, or broken. */
export const AUTHENTICATED_ERRORS = {
  "401": responseRef("Unauthorized"),
  "429": responseRef("RateLimited"),
  "500": responseRef("InternalError"),
};

/** What an admin operation may answer besides its own: the above, and 403 for a caller's token. */
export const ADMIN_ERRORS = { ...AUTHENTICATED_ERRORS, "403": responseRef("Forbidden") };

/**
 * Operations that need an admin token: the `admin` tag, and the `admin` role of the bearer
 * scheme (OpenAPI 3.1 lets a non-OAuth scheme's requirement list the roles it needs).
 */
export const ADMIN_ONLY = { tags: ["admin"], security: [{ bearerAuth: ["admin"] }] };

/** The Standard Webhooks headers every delivery carries. */
export const WEBHOOK_HEADERS: OpenAPIV3_1.ParameterObject[] = [
  {
    name: WEBHOOK_ID_HEADER,
    in: "header",
    required: true,
    description: "The delivery's id: the same on every retry of it. A receiver may deduplicate deliveries by it.",
    schema: { type: "string" },
  },
  {
    name: WEBHOOK_TIMESTAMP_HEADER,
    in: "header",
    required: true,
    description: "When this attempt was sent, in Unix seconds; verifiers refuse one too far from their clock.",
    schema: { type: "string" },
  },
  {
    name: WEBHOOK_SIGNATURE_HEADER,
    in: "header",
    required: true,
    description:
      "`v1,` then the base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the key of " +
      "`WEBHOOK_SECRET` (the base64 after `whsec_`). Any Standard Webhooks library verifies it.",
    schema: { type: "string" },
  },
];

/** The `{id}` path parameter of `/contacts/{id}`. */
export const CONTACT_ID: OpenAPIV3_1.ParameterObject = {
  name: "id",
  in: "path",
  required: true,
  description: "The id of any contact of the cluster, primary or secondary.",
  schema: schemaRef("ContactId"),
  example: "1",
};

/** The bookmark a caller sends back to read at least what an earlier answer showed. */
export const BOOKMARK_PARAMETER: OpenAPIV3_1.ParameterObject = {
  name: BOOKMARK_HEADER,
  in: "header",
  required: false,
  description:
    `The \`${BOOKMARK_HEADER}\` of an earlier answer, unchanged: this answer shows at least what that one did. ` +
    "Without it, a read may come from a replica that lags the latest writes.",
  schema: { type: "string" },
};

/** `after` and `limit` of a page of events (the history; the feed reads the same). */
export const PAGE_PARAMETERS: OpenAPIV3_1.ParameterObject[] = [
  {
    name: "after",
    in: "query",
    required: false,
    description:
      "An event's `id` or a page's `next`, unchanged: the page starts with the first event after it. " +
      "Absent: from the first event. Anything else: `400` `invalid_cursor`.",
    schema: { type: "string" },
  },
  {
    name: "limit",
    in: "query",
    required: false,
    description: `How many events at most, ${FEED_PAGE.min} to ${FEED_PAGE.max} (else \`400\` \`invalid_limit\`); ${FEED_PAGE.default} when absent.`,
    schema: { type: "integer", minimum: FEED_PAGE.min, maximum: FEED_PAGE.max, default: FEED_PAGE.default },
  },
];

/** A 200 whose body is one cluster, as `/identify` answers it. */
export const clusterAnswer = (description: string, headers: HeaderName[] = []) => ({
  description,
  headers: headerRefs(...headers),
  content: { "application/json": { schema: schemaRef("IdentifyResponse") } },
});

import * as v from "valibot";
import { ERRORS, type ErrorCode, type ErrorSchemaName, type ErrorSpec, type FieldIssue } from "./errors";
import { type ContactEvent, EventSchema } from "./events";
import { GraphLinkSchema } from "./graph";

/** The body of a successful `/identify` answer (docs/contract.md, "Response"). */
export type IdentifyResponse = {
  primaryContactId: number;
  emails: string[];
  phoneNumbers: string[];
  secondaryContactIds: number[];
};

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

/** One page of a cluster's history: its events after the request's `after`, and the `after` of the next page. */
export type HistoryPage = { events: ContactEvent[]; next: string };

/** `200` of `GET /contacts/{id}/history`: the feed's events (src/contract/events.ts) of one cluster, a page at a time. */
export const HistoryResponseSchema = v.pipe(
  v.strictObject({
    events: v.array(EventSchema),
    next: v.pipe(
      v.string(),
      v.description(
        "The `after` of the next page: the last event's `id`, or the request's `after` when the page is empty. " +
          "A page shorter than `limit` is the last one for now.",
      ),
    ),
  }),
  v.description(
    "Oldest first, for the cluster of `id` and the clusters merged into it; the same events as `GET /events`, " +
      "at most `limit` after `after`. Ids only, never an email or a phone.",
  ),
) satisfies v.GenericSchema<HistoryPage>;

/** `200` of `POST /contacts/{id}/unmerge`. */
export const UnmergeResponseSchema = v.pipe(
  v.strictObject({
    clusters: v.pipe(v.array(IdentifyResponseSchema), v.description("The clusters the unmerge leaves, by primary id.")),
  }),
  v.description("The bridge is removed, the cluster re-formed, and a separation recorded between its two contacts."),
);

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
 * The error envelope of src/errors.ts, narrowed to the codes one schema carries, so a
 * generated client can switch on `error.code` per status.
 */
function errorBody(codes: [ErrorCode, ...ErrorCode[]]) {
  const entries = {
    code: v.picklist(codes),
    message: v.pipe(v.string(), v.description("For people; may change. Switch on `code`.")),
    issues: v.optional(v.array(FieldIssueSchema)),
  };
  const withPath = codes.some((code) => {
    const spec: ErrorSpec = ERRORS[code];
    return spec.path === true;
  });
  if (!withPath) return v.strictObject({ error: v.strictObject(entries) });
  const path = v.pipe(v.array(GraphLinkSchema), v.description("The chain of links that explains the error."));
  return v.strictObject({ error: v.strictObject({ ...entries, path: v.optional(path) }) });
}

/** The error schema of a group of codes; one that holds several says what each means. */
function errorSchema(codes: [ErrorCode, ...ErrorCode[]]) {
  if (codes.length === 1) return errorBody(codes);
  const about = codes.map((code) => {
    const spec: ErrorSpec = ERRORS[code];
    return `\`${code}\`: ${spec.about ?? spec.message}`;
  });
  return v.pipe(errorBody(codes), v.description(`${about.join("; ")}.`));
}

/** The codes of the catalogue by the error schema that lists them, in catalogue order. */
function codesBySchema(): Map<ErrorSchemaName, [ErrorCode, ...ErrorCode[]]> {
  const groups = new Map<ErrorSchemaName, [ErrorCode, ...ErrorCode[]]>();
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    const group = groups.get(ERRORS[code].schema);
    if (group) group.push(code);
    else groups.set(ERRORS[code].schema, [code]);
  }
  return groups;
}

/** Every error schema of the API, generated from the catalogue (src/contract/errors.ts). */
export const ErrorSchemas = {} as Record<ErrorSchemaName, v.GenericSchema>;
for (const [name, codes] of codesBySchema()) ErrorSchemas[name] = errorSchema(codes);

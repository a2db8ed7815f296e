import * as v from "valibot";

// Merge repair as callers see it (`/contacts/{id}/graph`, `explain`, `unmerge`, separations):
// the shapes in valibot, for the OpenAPI document and the contract tests, each `satisfies`
// the plain type the code builds.

const ContactId = v.pipe(v.number(), v.integer(), v.minValue(1));

/** One contact of a cluster's graph. */
export type GraphContact = {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkPrecedence: "primary" | "secondary";
  createdAt: string;
};

/**
 * One link of a cluster's graph: a value two contacts share (from the later holder to the
 * first), or a bridge (from its email contact to its phone contact; `requestId` is null for
 * a legacy bridge, recorded before requests were).
 */
export type GraphLink =
  | { from: number; to: number; via: "email" | "phoneNumber"; value: string }
  | { from: number; to: number; via: "bridge"; bridgeId: number; at: string; requestId: string | null };

/** `200` of `GET /contacts/{id}/graph`: contacts in creation order, and every link among them. */
export type ContactGraph = { primaryContactId: number; contacts: GraphContact[]; links: GraphLink[] };

/** A standing do-not-link decision between two contacts (`contactIds` ascending). */
export type Separation = { id: number; contactIds: [number, number]; at: string; requestId: string };

const GraphContactSchema = v.strictObject({
  id: ContactId,
  email: v.nullable(v.string()),
  phoneNumber: v.nullable(v.string()),
  linkPrecedence: v.picklist(["primary", "secondary"]),
  createdAt: v.pipe(v.string(), v.description("ISO 8601, UTC: contacts are listed in this order, then by id.")),
}) satisfies v.GenericSchema<GraphContact>;

/** One link, discriminated by `via`. */
export const GraphLinkSchema = v.pipe(
  v.variant("via", [
    v.strictObject({
      from: v.pipe(ContactId, v.description("A later holder of the value (creation order).")),
      to: v.pipe(ContactId, v.description("The first holder of the value.")),
      via: v.picklist(["email", "phoneNumber"]),
      value: v.pipe(v.string(), v.description("The shared email or phone.")),
    }),
    v.strictObject({
      from: v.pipe(ContactId, v.description("The contact the merging request's email matched.")),
      to: v.pipe(ContactId, v.description("The contact the merging request's phone matched.")),
      via: v.literal("bridge"),
      bridgeId: v.pipe(ContactId, v.description("The bridge: what `POST /contacts/{id}/unmerge` takes.")),
      at: v.pipe(v.string(), v.description("When the bridge was recorded (ISO 8601, UTC).")),
      requestId: v.pipe(
        v.nullable(v.string()),
        v.description("The request that merged through it; null for a legacy bridge (a merge from before bridges)."),
      ),
    }),
  ]),
  v.description(
    "Why two contacts are linked. In an `explain` path each link is oriented along the way: `from` nearer the start.",
  ),
) satisfies v.GenericSchema<GraphLink>;

/** `200` of `GET /contacts/{id}/graph`. */
export const GraphResponseSchema = v.pipe(
  v.strictObject({
    primaryContactId: ContactId,
    contacts: v.pipe(v.array(GraphContactSchema), v.description("Creation order.")),
    links: v.array(GraphLinkSchema),
  }),
  v.description("The cluster as a graph, bounded by the cluster limits as every answer is."),
) satisfies v.GenericSchema<ContactGraph>;

/** `200` of `GET /contacts/{id}/explain`. */
export const ExplainResponseSchema = v.pipe(
  v.strictObject({ path: v.array(GraphLinkSchema) }),
  v.description("A shortest chain of links from `id` to `to`; empty when they are the same contact."),
);

/** One standing separation. */
export const SeparationSchema = v.strictObject({
  id: v.pipe(ContactId, v.description("What `DELETE /separations/{id}` takes.")),
  contactIds: v.pipe(v.tuple([ContactId, ContactId]), v.description("The two contacts kept apart, ascending.")),
  at: v.pipe(v.string(), v.description("When it was recorded (ISO 8601, UTC).")),
  requestId: v.pipe(v.string(), v.description("The unmerge that recorded it.")),
}) satisfies v.GenericSchema<Separation>;

/** `200` of `GET /contacts/{id}/separations`. */
export const SeparationsResponseSchema = v.pipe(
  v.array(SeparationSchema),
  v.description("The standing separations touching the cluster of `id`, by id."),
) satisfies v.GenericSchema<Separation[]>;

/** The body of `POST /contacts/{id}/unmerge`. */
export const UnmergeRequestSchema = v.pipe(
  v.object({
    bridgeId: v.pipe(
      v.number("bridgeId must be a bridge id"),
      v.safeInteger("bridgeId must be a bridge id"),
      v.minValue(1, "bridgeId must be a bridge id"),
    ),
  }),
  v.description("The bridge to remove, as the graph of the cluster names it."),
);

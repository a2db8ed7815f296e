import type { OpenAPIV3_1 } from "openapi-types";
import { MAX_DELIVERY_EVENTS } from "../contract/delivery";
import { BOOKMARK_HEADER, IGNORED_HEADER } from "../contract/headers";
import {
  ADMIN_ERRORS,
  ADMIN_ONLY,
  AUTHENTICATED_ERRORS,
  BOOKMARK_PARAMETER,
  CONTACT_ID,
  clusterAnswer,
  componentSchemas,
  HEADERS,
  headerRefs,
  PAGE_PARAMETERS,
  RESPONSES,
  responseRef,
  schemaRef,
  WEBHOOK_HEADERS,
} from "./components";
import { identifyExamples } from "./examples";

const DESCRIPTION = `
Links the identifiers a customer used across orders (emails, phone numbers) into one cluster,
and answers with the whole cluster.

**Authentication.** Every operation but the public ones (\`/health\`, \`/openapi.json\`, \`/docs\`)
needs \`Authorization: Bearer <token>\`; in the docs page, use **Authorize**. Callers' tokens
(\`API_TOKENS\`) reach \`/identify\` and \`/lookup\`; feed tokens (\`FEED_TOKENS\`, the \`feed\` role)
reach \`GET /events\` only; admin tokens (\`ADMIN_TOKENS\`, the \`admin\` tag, whose operations require the
bearer scheme's \`admin\` role) reach every operation. A token on an operation its scope does not
cover answers \`403\` \`forbidden\`.

**Errors.** Every error is JSON, \`{"error": {"code", "message", "issues"?}}\`: switch on \`code\`.
Besides the statuses listed per operation, an unknown path answers \`404\` (\`NotFound\`; \`401\`
first without a token), and a known path called with another method answers \`405\` with \`Allow\`
(\`MethodNotAllowed\`).

**Merge protection.** Placeholder identifiers (\`0000000000\`, \`12345678\`, \`noreply@…\`,
\`test@test.com\`, …) are dropped before matching: they link nothing and are never stored. A
cluster holds at most \`MAX_EMAILS_PER_CLUSTER\` emails and \`MAX_PHONES_PER_CLUSTER\` phones
(Worker variables, 50 each by default); an identifier or a merge that would exceed them is
dropped. Either way the \`200\` says which field was left out in \`Identity-Ignored\`, and a
request left with no identifier is refused with \`422\` \`identifier_blocked\`. Operators add
blocked values or patterns, or switch the built-in rules off, with the \`BLOCKED_IDENTIFIERS\`
variable; a malformed value makes the Worker answer \`500\` rather than run unprotected.
`.trim();

/** Builds the OpenAPI 3.1 document of the Worker's API from the valibot schemas. */
export function buildOpenApiDocument(): OpenAPIV3_1.Document {
  return {
    openapi: "3.1.1",
    info: {
      title: "Identity reconciliation API",
      // The version of the contract, not of the package: bump it when the contract changes.
      version: "1.0.0",
      description: DESCRIPTION,
    },
    // Relative: the operations live on the origin that serves this document.
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "identity", description: "Identity reconciliation: callers' and admin tokens." },
      { name: "admin", description: "Contacts by id, erasure and history: admin tokens only." },
      { name: "feed", description: "The change feed: feed tokens (`FEED_TOKENS`) and admin tokens." },
      { name: "meta", description: "Health and documentation; public." },
    ],
    paths: {
      "/identify": {
        post: {
          operationId: "identify",
          tags: ["identity"],
          summary: "Reconcile an email and/or a phone number into a contact cluster",
          description:
            "Creates a primary contact for new identifiers, links what they match (the oldest primary " +
            "stays primary), records a secondary for an identifier the cluster does not have yet, and " +
            "answers with the whole cluster. Sending the same body twice changes nothing the second time. " +
            "An answer that changed nothing may come from a read replica and lag the latest writes by the " +
            `replica's delay; send the \`${BOOKMARK_HEADER}\` of an earlier answer to read at least what it showed.`,
          parameters: [BOOKMARK_PARAMETER],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaRef("IdentifyRequest"),
                examples: identifyExamples("request"),
              },
            },
          },
          responses: {
            "200": {
              description: "The cluster, after reconciliation.",
              headers: headerRefs(BOOKMARK_HEADER, IGNORED_HEADER),
              content: {
                "application/json": {
                  schema: schemaRef("IdentifyResponse"),
                  examples: identifyExamples("response"),
                },
              },
            },
            "400": responseRef("BadRequest"),
            "413": responseRef("PayloadTooLarge"),
            "422": responseRef("IdentifierBlocked"),
            "503": responseRef("ServiceUnavailable"),
            ...AUTHENTICATED_ERRORS,
          },
        },
      },
      "/lookup": {
        post: {
          operationId: "lookup",
          tags: ["identity"],
          summary: "Find the cluster of an email or phone number, without writing",
          description:
            "The same body and normalisation as `/identify`; answers the cluster holding the email, else the " +
            "phone, from one read. Never creates, links or merges anything. When the email and the phone lie " +
            "in different clusters, the email's is answered with `Identity-Ignored: phoneNumber=other_cluster`.",
          parameters: [BOOKMARK_PARAMETER],
          requestBody: {
            required: true,
            content: { "application/json": { schema: schemaRef("IdentifyRequest") } },
          },
          responses: {
            "200": clusterAnswer("The cluster holding the email, else the phone.", [
              "Identity-Ignored",
              BOOKMARK_HEADER,
            ]),
            "400": responseRef("BadRequest"),
            "404": responseRef("ContactNotFound"),
            "413": responseRef("PayloadTooLarge"),
            "503": responseRef("ServiceUnavailable"),
            ...AUTHENTICATED_ERRORS,
          },
        },
      },
      "/contacts/{id}": {
        get: {
          operationId: "getContact",
          ...ADMIN_ONLY,
          parameters: [CONTACT_ID, BOOKMARK_PARAMETER],
          summary: "The cluster of one contact, by id",
          description: "Answers from one read, without writing. An erased or unknown id answers 404.",
          responses: {
            "200": clusterAnswer("The cluster contact `id` belongs to.", [BOOKMARK_HEADER]),
            "400": responseRef("BadContactId"),
            "404": responseRef("ContactNotFound"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
        delete: {
          operationId: "deleteContact",
          ...ADMIN_ONLY,
          parameters: [CONTACT_ID],
          summary: "Erase the whole cluster of one contact",
          description:
            "A person's right to be forgotten: every row of the cluster of contact `id` is deleted, with the " +
            "bridges that tied it, through the object that serialises the cluster's writes, in one transaction. " +
            "The history keeps the ids (never a value) and stays readable by a former id.",
          responses: {
            "200": {
              description: "The deleted contacts.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("DeleteContactResponse") } },
            },
            "400": responseRef("BadContactId"),
            "404": responseRef("ContactNotFound"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/contacts/{id}/history": {
        get: {
          operationId: "getContactHistory",
          ...ADMIN_ONLY,
          parameters: [CONTACT_ID, ...PAGE_PARAMETERS, BOOKMARK_PARAMETER],
          summary: "What happened to a contact's cluster and the clusters merged into it",
          description:
            "Every `created`, `linked`, `merged`, `split` and `erased` event of the cluster of `id`, oldest first, " +
            "following the clusters merged into it, a page at a time as `GET /events` pages (`after`, `limit`, " +
            "`next`). Readable by a former contact id after an erasure. A contact stored before events were " +
            "recorded has an empty history.",
          responses: {
            "200": {
              description: "One page of the events, oldest first.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("HistoryResponse") } },
            },
            "400": responseRef("BadHistoryRequest"),
            "404": responseRef("ContactNotFound"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/contacts/{id}/graph": {
        get: {
          operationId: "getContactGraph",
          ...ADMIN_ONLY,
          parameters: [CONTACT_ID, BOOKMARK_PARAMETER],
          summary: "Why a cluster is one customer: its contacts and the links between them",
          description:
            "The cluster of `id` as a graph, from one read: contacts in creation order; for each email (and phone) " +
            "held by several contacts, one link from each later holder to its first holder; one link per bridge " +
            "(a merge by known values alone) from its email contact to its phone contact, with its id, time and " +
            "request. Bounded by the cluster limits as every answer is.",
          responses: {
            "200": {
              description: "The graph.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("GraphResponse") } },
            },
            "400": responseRef("BadContactId"),
            "404": responseRef("ContactNotFound"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/contacts/{id}/explain": {
        get: {
          operationId: "explainLink",
          ...ADMIN_ONLY,
          parameters: [
            CONTACT_ID,
            {
              name: "to",
              in: "query",
              required: true,
              description: "The other contact's id.",
              schema: schemaRef("ContactId"),
            },
            BOOKMARK_PARAMETER,
          ],
          summary: "A shortest chain of links between two contacts",
          description:
            "The links of the graph that join `id` to `to`, fewest first, each oriented along the way (`from` nearer " +
            "`id`); an empty path for the same contact.",
          responses: {
            "200": {
              description: "The chain.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("ExplainResponse") } },
            },
            "400": responseRef("BadExplainRequest"),
            "404": responseRef("ContactNotFound"),
            "409": responseRef("NotLinked"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/contacts/{id}/unmerge": {
        post: {
          operationId: "unmerge",
          ...ADMIN_ONLY,
          parameters: [CONTACT_ID],
          summary: "Undo a wrong merge: remove one bridge and split the cluster",
          description:
            "Removes bridge `bridgeId` of the cluster of `id` and re-forms the cluster into its connected clusters " +
            "(each under its oldest contact), in one transaction through the object that serialises the cluster's " +
            "writes; records a separation between the bridge's two contacts, so that no later request merges their " +
            "clusters again (it is answered with `Identity-Ignored: phoneNumber=separated`), and an `unmerged` " +
            "event per resulting cluster. Nothing is erased.",
          requestBody: {
            required: true,
            content: { "application/json": { schema: schemaRef("UnmergeRequest") } },
          },
          responses: {
            "200": {
              description: "The clusters the unmerge leaves.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("UnmergeResponse") } },
            },
            "400": responseRef("BadRequest"),
            "404": responseRef("UnmergeNotFound"),
            "409": responseRef("StillLinked"),
            "413": responseRef("PayloadTooLarge"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/contacts/{id}/separations": {
        get: {
          operationId: "getContactSeparations",
          ...ADMIN_ONLY,
          parameters: [CONTACT_ID, BOOKMARK_PARAMETER],
          summary: "The standing separations touching a cluster",
          description: "Every separation with a contact in the cluster of `id`, by id, from one read.",
          responses: {
            "200": {
              description: "The separations.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("SeparationsResponse") } },
            },
            "400": responseRef("BadContactId"),
            "404": responseRef("ContactNotFound"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/separations/{id}": {
        delete: {
          operationId: "deleteSeparation",
          ...ADMIN_ONLY,
          parameters: [
            {
              name: "id",
              in: "path",
              required: true,
              description: "The separation's id.",
              schema: schemaRef("ContactId"),
            },
          ],
          summary: "Lift a separation",
          description:
            "Merges nothing by itself: the next request that would merge the two clusters does. Deleting either " +
            "contact lifts its separations too.",
          responses: {
            "200": {
              description: "The separation, as it stood.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: {
                "application/json": {
                  schema: schemaRef("Separation"),
                },
              },
            },
            "400": responseRef("BadSeparationId"),
            "404": responseRef("SeparationNotFound"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/events": {
        get: {
          operationId: "getEvents",
          tags: ["feed"],
          // A feed token, or an admin token: either role of the bearer scheme.
          security: [{ bearerAuth: ["feed"] }, { bearerAuth: ["admin"] }],
          summary: "The change feed: every change, in commit order, after a cursor",
          description:
            "The events committed after `after` (from the first event when it is absent), oldest first, at " +
            `most \`limit\`. Always ask with the page's \`next\`: it is the last event's \`id\`, or \`after\` ` +
            "itself when the page is empty, so a consumer never misses and never repeats an event, even while " +
            "writes commit between its pages. A read replica that lags can only end a page early, never skip an " +
            `event; send the \`${BOOKMARK_HEADER}\` of the previous page to never read an older one. Applying ` +
            "each event as its kind says keeps a map of contact id to primary id equal to `GET /contacts/{id}` " +
            "for every live contact. Ids only, never an email or a phone.",
          parameters: [...PAGE_PARAMETERS, BOOKMARK_PARAMETER],
          responses: {
            "200": {
              description: "One page of events, and the cursor to ask with next.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("FeedPage") } },
            },
            "400": responseRef("BadFeedQuery"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/events/delivery": {
        get: {
          operationId: "getEventDelivery",
          ...ADMIN_ONLY,
          summary: "Where the push of the change feed to WEBHOOK_URL stands",
          description:
            "The receiver's origin, the cursor of the last event it acknowledged, how many events are still to " +
            "deliver, the last error (a status, a timeout, a malformed `WEBHOOK_URL` or `WEBHOOK_SECRET`) and " +
            "when the next attempt is due. See the `events` webhook for what is delivered.",
          responses: {
            "200": {
              description: "The delivery's state.",
              headers: headerRefs(),
              content: { "application/json": { schema: schemaRef("DeliveryStatus") } },
            },
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/erase": {
        post: {
          operationId: "erase",
          ...ADMIN_ONLY,
          summary: "Erase an email and/or a phone number wherever it is stored",
          description:
            "Same body and normalisation as `/identify` (blocked values are not screened: an operator can erase " +
            "anything stored). Each value is removed from every contact holding it; a contact left with neither " +
            "is deleted. Bridges that relied on an erased value go, and what remains of each cluster is re-formed " +
            "into its connected clusters, each under its oldest contact. One transaction, serialised with the " +
            "cluster's other writes: once it has answered, no answer includes an erased value unless a later " +
            "request sends it again.",
          requestBody: {
            required: true,
            content: { "application/json": { schema: schemaRef("IdentifyRequest") } },
          },
          responses: {
            "200": {
              description: "The deleted contacts and the clusters that remain.",
              headers: headerRefs(BOOKMARK_HEADER),
              content: { "application/json": { schema: schemaRef("EraseResponse") } },
            },
            "400": responseRef("BadRequest"),
            "404": responseRef("ContactNotFound"),
            "413": responseRef("PayloadTooLarge"),
            "503": responseRef("ServiceUnavailable"),
            ...ADMIN_ERRORS,
          },
        },
      },
      "/health": {
        get: {
          operationId: "health",
          tags: ["meta"],
          summary: "Liveness probe; touches no storage",
          security: [],
          responses: {
            "200": {
              description: "The Worker is up.",
              headers: headerRefs(),
              content: { "application/json": { schema: schemaRef("HealthResponse") } },
            },
          },
        },
        head: {
          operationId: "healthHead",
          tags: ["meta"],
          summary: "Liveness probe without a body",
          security: [],
          responses: { "200": { description: "The Worker is up.", headers: headerRefs() } },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openApiDocument",
          tags: ["meta"],
          summary: "This document",
          security: [],
          responses: {
            "200": {
              description: "The OpenAPI 3.1 document, generated from the schemas that validate requests.",
              headers: headerRefs(),
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
        },
      },
      "/docs": {
        get: {
          operationId: "docs",
          tags: ["meta"],
          summary: "Interactive documentation (Swagger UI)",
          security: [],
          responses: {
            "200": {
              description: "An HTML page; its scripts and styles are served by this Worker too.",
              content: { "text/html": { schema: { type: "string" } } },
            },
          },
        },
      },
    },
    webhooks: {
      events: {
        post: {
          operationId: "deliverEvents",
          tags: ["admin"],
          summary: "The change feed, pushed to WEBHOOK_URL",
          description:
            `Every event of \`GET /events\`, in feed order, at most ${MAX_DELIVERY_EVENTS} per delivery, signed as ` +
            "Standard Webhooks specifies. A `2xx` within 10 s acknowledges the delivery; anything else (another " +
            "status, a redirect, no answer) is retried with exponential backoff and jitter, at most an hour apart, " +
            "with the same `webhook-id` and body, and nothing later is sent before it is acknowledged. At least " +
            "once, in order: deduplicate by event `id`. `GET /events/delivery` shows where it stands.",
          security: [],
          parameters: WEBHOOK_HEADERS,
          requestBody: {
            required: true,
            content: { "application/json": { schema: schemaRef("WebhookPayload") } },
          },
          responses: {
            "2XX": { description: "Acknowledged: the next delivery starts after its last event." },
            default: { description: "Not acknowledged: the same delivery is retried." },
          },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      responses: RESPONSES,
      headers: HEADERS,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description:
            "A caller's token (`API_TOKENS` secret), a feed token (`FEED_TOKENS`: `GET /events` only, the `feed` " +
            "role) or an admin token (`ADMIN_TOKENS`: every operation, the `admin` role). A token on an operation " +
            "whose requirement lists neither its role answers 403.",
        },
      },
    },
  };
}

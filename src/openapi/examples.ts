import type * as v from "valibot";
import { ERRORS, type ErrorDetail } from "../contract/errors";
import type { identifyRequestSchema } from "../contract/request";
import type { IdentifyResponse } from "../contract/responses";

type IdentifyRequest = v.InferInput<ReturnType<typeof identifyRequestSchema>>;
type Example<T> = { summary: string; value: T };

// A walk-through, in order on an empty store: each answer follows from the requests
// before it. Typed against the request schema and the response type, so a renamed field
// breaks the build; test/http/openapi-examples.test.ts replays them against the Worker.
const WALK_THROUGH: Record<string, { summary: string; request: IdentifyRequest; response: IdentifyResponse }> = {
  newCustomer: {
    summary: "1. A new email creates a primary contact",
    request: { email: "foo@bar.com" },
    response: { primaryContactId: 1, emails: ["foo@bar.com"], phoneNumbers: [], secondaryContactIds: [] },
  },
  newPhone: {
    summary: "2. A new phone for a known email adds a secondary contact",
    request: { email: "foo@bar.com", phoneNumber: "+91 99999 99999" },
    response: {
      primaryContactId: 1,
      emails: ["foo@bar.com"],
      phoneNumbers: ["+919999999999"],
      secondaryContactIds: [2],
    },
  },
  newEmail: {
    summary: "3. A new email on a known phone joins the same cluster",
    request: { email: "newemail@example.com", phoneNumber: "+919999999999" },
    response: {
      primaryContactId: 1,
      emails: ["foo@bar.com", "newemail@example.com"],
      phoneNumbers: ["+919999999999"],
      secondaryContactIds: [2, 3],
    },
  },
  george: {
    summary: "4. Another customer",
    request: { email: "george@hillvalley.edu", phoneNumber: "919191" },
    response: {
      primaryContactId: 4,
      emails: ["george@hillvalley.edu"],
      phoneNumbers: ["919191"],
      secondaryContactIds: [],
    },
  },
  biff: {
    summary: "5. And another",
    request: { email: "biffsucks@hillvalley.edu", phoneNumber: "717171" },
    response: {
      primaryContactId: 5,
      emails: ["biffsucks@hillvalley.edu"],
      phoneNumbers: ["717171"],
      secondaryContactIds: [],
    },
  },
  merge: {
    summary: "6. A request linking them merges the two: the older primary stays, no row is added",
    request: { email: "george@hillvalley.edu", phoneNumber: "717171" },
    response: {
      primaryContactId: 4,
      emails: ["george@hillvalley.edu", "biffsucks@hillvalley.edu"],
      phoneNumbers: ["919191", "717171"],
      secondaryContactIds: [5],
    },
  },
};

/**
 * An invalid request and the 400 it gets; among the request examples and the 400
 * examples it goes by the same name.
 */
export const INVALID_REQUEST: {
  name: string;
  summary: string;
  request: IdentifyRequest;
  error: ErrorDetail;
} = {
  name: "invalidRequest",
  summary: "An invalid request: every problem is listed in `issues`",
  request: { email: "not-an-email", phoneNumber: "12" },
  error: {
    code: "invalid_request",
    message: ERRORS.invalid_request.message,
    issues: [
      { path: "email", message: "email must be a valid email address" },
      { path: "phoneNumber", message: "phoneNumber must be 3 to 20 digits with an optional leading +" },
    ],
  },
};

/**
 * Example Objects for one side of the walk-through, by name; the request examples end with
 * the invalid one. A request's answer is the example of the same name, under 200 or 400.
 */
export function identifyExamples(side: "request"): Record<string, Example<IdentifyRequest>>;
export function identifyExamples(side: "response"): Record<string, Example<IdentifyResponse>>;
export function identifyExamples(side: "request" | "response"): Record<string, Example<unknown>> {
  const examples: Record<string, Example<unknown>> = {};
  for (const [name, step] of Object.entries(WALK_THROUGH)) {
    examples[name] = { summary: step.summary, value: step[side] };
  }
  if (side === "request") {
    examples[INVALID_REQUEST.name] = { summary: INVALID_REQUEST.summary, value: INVALID_REQUEST.request };
  }
  return examples;
}

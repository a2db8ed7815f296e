import type { IRequest } from "itty-router";
import { protection } from "../config";
import { ERRORS } from "../contract/errors";
import { UnmergeRequestSchema } from "../contract/graph";
import { fail } from "../errors";
import { readValidBody } from "../http/body";
import { readContactId } from "../http/params";
import { requestFacts } from "../http/request-facts";
import { unmergeBridge } from "../usecases/unmerge";
import { respond } from "./respond";

/**
 * `POST /contacts/{id}/unmerge` (admin), body `{"bridgeId": n}`: removes that bridge of the
 * cluster of `id`, re-forms the cluster, and records a separation between its two contacts.
 */
export async function unmerge(request: IRequest, env: Env): Promise<Response> {
  const id = readContactId(request);
  const { bridgeId } = await readValidBody(request, UnmergeRequestSchema);
  // Read before anything is written: a malformed setting fails closed with nothing written.
  const { limits } = protection(env);
  const result = await unmergeBridge(env, id, bridgeId, requestFacts(request).requestId, limits);
  return respond(request, result, () =>
    fail("contact_not_found", { message: ERRORS.contact_not_found.variants.id(id) }),
  );
}

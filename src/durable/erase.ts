import { readErasureScope } from "../db/erasure";
import { addUsage, type D1Usage, meteredD1, noUsage } from "../db/metered";
import { database } from "../db/queries";
import { PrimaryD1 } from "../db/sessions";
import type { IdentifyResponse } from "../domain/contact";
import { type ErasureTarget, namesAnything } from "../domain/erasure";
import { serviceUnavailable } from "../errors";
import { MAX_HOPS, ObjectStorageError } from "./identify";
import { reconcilerStub } from "./placement";
import { withRetries } from "./retry";
import { erasureOwnerKey, newContactObjects } from "./routing";

export type Erased = {
  /** Undefined when nothing stored matched the target (a 404). */
  result: { erasedContactIds: number[]; clusters: IdentifyResponse[] } | undefined;
  d1: D1Usage;
  objectCalls: number;
  /** The D1 bookmark after the erasure: a read sent with it sees the erasure. */
  bookmark: string | null;
};

/**
 * Erases a cluster or values. Reads the scope once to find the ClusterReconciler that owns
 * it, and has that object erase (re-reading, planning and committing one guarded batch in
 * its queue), following ownership if a merge moved it meanwhile.
 * @throws HttpError 503 when storage or coordination still fails after retries.
 */
export async function eraseContacts(env: Env, target: ErasureTarget, requestId: string): Promise<Erased> {
  let d1 = noUsage();
  let objectCalls = 0;
  try {
    // On the primary: a lagging replica could miss what a request just stored, and answer 404.
    const primary = new PrimaryD1(env.DB);
    const { rows } = await withRetries(() => readErasureScope(database(meteredD1(primary.client(), d1)), target));
    if (!namesAnything(rows, target)) return { result: undefined, d1, objectCalls, bookmark: primary.bookmark() };
    let key = erasureOwnerKey(rows, target, newContactObjects(env));
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const owner = key;
      objectCalls += 1;
      const result = await withRetries(async () => {
        const answer = await reconcilerStub(env, owner).erase(owner, target, requestId);
        d1 = addUsage(d1, answer.d1);
        if (answer.kind === "failed") throw new ObjectStorageError(answer.message, answer.transient);
        return answer;
      });
      if (result.kind === "done") {
        const { erasedContactIds, clusters, bookmark } = result;
        return { result: { erasedContactIds, clusters }, d1, objectCalls, bookmark };
      }
      if (result.kind === "not_found") return { result: undefined, d1, objectCalls, bookmark: primary.bookmark() };
      if (result.kind === "contended") break;
      key = result.ownerKey;
    }
  } catch (err) {
    console.error(JSON.stringify({ level: "error", message: "erasure failed", error: String(err) }));
    throw serviceUnavailable("Storage is unavailable right now; retry shortly.");
  }
  throw serviceUnavailable("The contact is being changed by many requests at once; retry shortly.");
}

import { IGNORED_HEADER } from "../contract/headers";
import { type BlockList, type Ignored, ignoredHeader, screenIdentifiers } from "../domain/blocking";
import type { Identifiers } from "../domain/contact";
import { fail } from "../errors";
import { readIdentifiers } from "./body";
import { noteIdentifiers, noteIgnored } from "./request-log";

/** The header that says which fields were left out, or none when nothing was. */
export function ignoredHeaders(ignored: readonly Ignored[]): Record<string, string> | undefined {
  return ignored.length === 0 ? undefined : { [IGNORED_HEADER]: ignoredHeader(ignored) };
}

/**
 * Reads the identifiers of a body of `/identify` or `/lookup` and drops those `blockList`
 * blocks (recorded for the log by rule name): the one screening step of every route that
 * matches identifiers; the fields it drops are noted for the log, and routes/respond.ts
 * adds them to the answer's `Identity-Ignored`. The caller takes `blockList` from `protection(env)` before the
 * body is read, so that a malformed configuration fails every request closed, valid or not.
 * @throws HttpError 400 for a body that breaks the schema, 422 `identifier_blocked` when
 *   every identifier is blocked.
 */
export async function screenedIdentifiers(request: Request, blockList: BlockList): Promise<Identifiers> {
  const who = await readIdentifiers(request);
  noteIdentifiers(request, who);
  const { kept, ignored } = screenIdentifiers(blockList, who);
  noteIgnored(request, ignored);
  if (kept === undefined) {
    throw fail("identifier_blocked", { headers: ignoredHeaders(ignored) });
  }
  return kept;
}

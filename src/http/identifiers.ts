import { protection } from "../config";
import { IGNORED_HEADER, type Ignored, ignoredHeader, screenIdentifiers } from "../domain/blocking";
import type { Identifiers } from "../domain/contact";
import { HttpError } from "../errors";
import { readIdentifiers } from "./body";
import { noteIdentifiers, noteIgnored } from "./request-log";

/** The header that says which fields were left out, or none when nothing was. */
export function ignoredHeaders(ignored: readonly Ignored[]): Record<string, string> | undefined {
  return ignored.length === 0 ? undefined : { [IGNORED_HEADER]: ignoredHeader(ignored) };
}

/**
 * Reads the identifiers of a body of `/identify` or `/lookup` and drops the blocked ones
 * (recorded for the log by rule name): the one screening step of every route that
 * matches identifiers.
 * @throws HttpError 400 for a body that breaks the schema, 422 `identifier_blocked` when
 *   every identifier is blocked; a BlockListError or ClusterLimitError (500) when the
 *   protection's configuration is malformed.
 */
export async function screenedIdentifiers(
  request: Request,
  env: Env,
): Promise<{ identifiers: Identifiers; ignored: Ignored[] }> {
  // First, so that a malformed configuration fails every request closed, valid or not.
  const { blockList } = protection(env);
  const who = await readIdentifiers(request);
  noteIdentifiers(request, who);
  const { kept, ignored } = screenIdentifiers(blockList, who);
  noteIgnored(request, ignored);
  if (kept === undefined) {
    throw new HttpError(
      422,
      "identifier_blocked",
      "Every identifier of the request is a blocked placeholder; nothing was stored.",
      { headers: ignoredHeaders(ignored) },
    );
  }
  return { identifiers: kept, ignored };
}

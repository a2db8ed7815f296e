import { type BlockList, parseBlockList } from "./domain/blocking";
import { type ClusterLimits, parseClusterLimits } from "./domain/limits";

/** What the merge protection needs from the Worker's variables. */
export type Protection = { blockList: BlockList; limits: ClusterLimits };

// Parsed once per isolate per value, not on every request: keyed by the variables' text,
// so a new deployment's values (a new isolate) or a test's overrides are picked up.
// A malformed value is remembered too, so that it is not re-parsed by every request it fails.
let cached: { key: string; protection: Protection | Error } | undefined;

function parse(env: Env): Protection | Error {
  try {
    return {
      blockList: parseBlockList(env.BLOCKED_IDENTIFIERS),
      limits: parseClusterLimits(env.MAX_EMAILS_PER_CLUSTER, env.MAX_PHONES_PER_CLUSTER),
    };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * The merge protection configured by `BLOCKED_IDENTIFIERS`, `MAX_EMAILS_PER_CLUSTER` and
 * `MAX_PHONES_PER_CLUSTER`.
 * @throws BlockListError or ClusterLimitError when a value is malformed: the request fails
 *   closed with a 500 whose log line carries the message, rather than run unprotected.
 */
export function protection(env: Env): Protection {
  const key = JSON.stringify([env.BLOCKED_IDENTIFIERS, env.MAX_EMAILS_PER_CLUSTER, env.MAX_PHONES_PER_CLUSTER]);
  if (cached?.key !== key) cached = { key, protection: parse(env) };
  if (cached.protection instanceof Error) throw cached.protection;
  return cached.protection;
}

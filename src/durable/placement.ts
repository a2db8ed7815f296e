import type { ClusterReconciler } from "./reconciler";

/** The regions a Durable Object can be hinted to (Cloudflare's `locationHint` values). */
const LOCATION_HINTS: readonly DurableObjectLocationHint[] = [
  "wnam",
  "enam",
  "sam",
  "weur",
  "eeur",
  "apac",
  "apac-ne",
  "apac-se",
  "oc",
  "afr",
  "me",
];

function isLocationHint(value: string): value is DurableObjectLocationHint {
  return (LOCATION_HINTS as readonly string[]).includes(value);
}

/**
 * The `locationHint` of `RECONCILER_LOCATION_HINT`, undefined when it is empty.
 * @throws Error when it names no region: a typo would otherwise place objects anywhere.
 */
export function reconcilerLocationHint(env: Env): DurableObjectLocationHint | undefined {
  const hint = env.RECONCILER_LOCATION_HINT.trim().toLowerCase();
  if (hint === "") return undefined;
  if (!isLocationHint(hint)) {
    throw new Error(`RECONCILER_LOCATION_HINT "${hint}" is not one of ${LOCATION_HINTS.join(", ")}`);
  }
  return hint;
}

/**
 * The stub of the ClusterReconciler named `name`: every place that addresses an
 * object goes through here. An object is created where its first caller's hint says
 * (a hint only matters on creation), so with the hint set to the D1 database's region
 * each object's round trips to the primary stay inside that region.
 */
export function reconcilerStub(env: Env, name: string): DurableObjectStub<ClusterReconciler> {
  const locationHint = reconcilerLocationHint(env);
  return locationHint === undefined ? env.RECONCILER.getByName(name) : env.RECONCILER.getByName(name, { locationHint });
}

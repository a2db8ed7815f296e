/** The regions a Durable Object can be hinted to (Cloudflare's `locationHint` values). */
export const LOCATION_HINTS = [
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
] as const;

export type LocationHint = (typeof LOCATION_HINTS)[number];

function isLocationHint(value: string): value is LocationHint {
  return (LOCATION_HINTS as readonly string[]).includes(value);
}

/**
 * The region named by `RECONCILER_LOCATION_HINT` (any case, spaces trimmed), undefined when
 * it is empty. Kept free of Worker types so that `npm run check` can run it in Node.
 * @throws Error when it names no region: a typo would otherwise place objects anywhere.
 */
export function parseLocationHint(value: string | undefined): LocationHint | undefined {
  const hint = (value ?? "").trim().toLowerCase();
  if (hint === "") return undefined;
  if (!isLocationHint(hint)) {
    throw new Error(`RECONCILER_LOCATION_HINT "${hint}" is not one of ${LOCATION_HINTS.join(", ")}`);
  }
  return hint;
}

import { createHash } from "node:crypto";

/**
 * The request id recorded with the writes of the record ending on `line`: shaped like the
 * service's own (a UUID), derived from the import's id and the line so that a resumed
 * import writes the same ids as an uninterrupted one. Version 8 (custom) and variant bits set.
 */
export function importRequestId(importId: string, line: number): string {
  const hex = createHash("sha256").update(`${importId}:${line}`).digest("hex");
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

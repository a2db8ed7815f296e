/**
 * The feed's cursor: an event's position, opaque to consumers. It is the base64url (no
 * padding) of `v1:<eventId>`, so that the encoding can change under a new prefix without
 * breaking cursors already handed out. `encodeCursor(0)` stands before the first event.
 */

const PREFIX = "v1:";
/** Longer than any cursor this service writes (`v1:` and 16 digits, in base64url). */
const MAX_CURSOR_LENGTH = 32;

/** The cursor of event `eventId` (a non-negative safe integer; 0 is before the first event). */
export function encodeCursor(eventId: number): string {
  if (!Number.isSafeInteger(eventId) || eventId < 0) throw new RangeError(`not an event id: ${eventId}`);
  return btoa(`${PREFIX}${eventId}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The event id of a cursor this service wrote, or undefined for any other text. Only the
 * exact spelling `encodeCursor` writes is accepted (no padding, no leading zeros), so one
 * position has one cursor.
 */
export function decodeCursor(text: string): number | undefined {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let decoded: string;
  try {
    decoded = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return undefined;
  }
  const digits = /^v1:(0|[1-9][0-9]{0,15})$/.exec(decoded)?.[1];
  if (digits === undefined) return undefined;
  const eventId = Number(digits);
  return Number.isSafeInteger(eventId) && encodeCursor(eventId) === text ? eventId : undefined;
}

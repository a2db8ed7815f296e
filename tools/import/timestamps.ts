/** `createdAt` of an import record: ISO-8601, with a time zone whenever a time is given. */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The stored form of `text` (UTC, milliseconds: `2024-03-01T09:30:00.000Z`, which sorts as
 * text like the service's own timestamps), or undefined when it is not an ISO-8601 date or
 * date-time, names a day or time that does not exist, or gives a time without a zone
 * (which instant it means is unknown). A date alone is midnight UTC.
 */
export function parseCreatedAt(text: string): string | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59)) return undefined;
  if (h !== undefined && zone === undefined) return undefined;
  const instant = Date.parse(h === undefined ? `${y}-${mo}-${d}T00:00:00Z` : normalisedZone(text.trim()));
  if (Number.isNaN(instant)) return undefined;
  const iso = new Date(instant).toISOString();
  // Years before 0000 or after 9999 (after a zone shift) have no 24-character form.
  return iso.length === 24 ? iso : undefined;
}

/** Date.parse reads `+0100` and `+01` less reliably than `+01:00`; a space separator neither. */
function normalisedZone(text: string): string {
  return text
    .replace(" ", "T")
    .replace(",", ".")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2")
    .replace(/([+-]\d{2})$/, "$1:00")
    .replace(/(\.\d{3})\d+/, "$1");
}

import type { ContactRow } from "../../src/domain/contact";

/** A time `n` minutes into the test day: creation order follows `n`. */
export const minute = (n: number) => `2026-01-01T00:${String(n).padStart(2, "0")}:00.000Z`;

/** A contact created at minute `id`; `linkedId` null makes it a primary. */
export function row(id: number, email: string | null, phoneNumber: string | null, linkedId: number | null): ContactRow {
  return {
    id,
    email,
    phoneNumber,
    linkedId,
    linkPrecedence: linkedId === null ? "primary" : "secondary",
    createdAt: minute(id),
  };
}

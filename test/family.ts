import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { identify, postIdentify, unique } from "./helpers";

let phones = 0;
/** A phone no other test of the file sends (storage is per file; the clock separates reruns). */
export const newPhone = () => `+6${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

/**
 * A family cluster through /identify: a {mum, home} and b {son, home} share the home phone;
 * c {work, office} stood apart until a request with mum's email and the office phone bridged
 * a to c. Returns the ids, the values, the bridge and the request id that made it.
 */
export async function family() {
  const tag = unique("fam");
  const [mum, son, work] = [`${tag}mum@fam.io`, `${tag}son@fam.io`, `${tag}work@fam.io`];
  const [home, office] = [newPhone(), newPhone()];
  const first = await identify({ email: mum, phoneNumber: home });
  const second = await identify({ email: son, phoneNumber: home });
  const third = await identify({ email: work, phoneNumber: office });
  const merge = await postIdentify({ email: mum, phoneNumber: office });
  expect(merge.status).toBe(200);
  const [a, b, c] = [first.primaryContactId, second.secondaryContactIds[0] ?? 0, third.primaryContactId];
  const bridge = await env.DB.prepare("SELECT id, createdAt FROM contact_bridges WHERE phoneContactId = ?1")
    .bind(c)
    .first<{ id: number; createdAt: string }>();
  return {
    a,
    b,
    c,
    mum,
    son,
    work,
    home,
    office,
    bridgeId: bridge?.id ?? 0,
    bridgeAt: bridge?.createdAt ?? "",
    mergeRequest: merge.headers.get("x-request-id"),
  };
}

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { IdentifyResponse } from "../../src/domain/contact";
import {
  call,
  callAsAdmin,
  callWith,
  countRows,
  expectInvariants,
  identify,
  insertRow,
  storedRows,
  unique,
} from "../helpers";
import { ADMIN_TOKEN } from "../tokens";

type Erasure = { erasedContactIds: number[]; clusters: IdentifyResponse[] };

const postErase = (body: unknown) => callAsAdmin("/erase", { method: "POST", body: JSON.stringify(body) });

async function erase(body: unknown): Promise<Erasure> {
  const res = await postErase(body);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Erasure;
}

async function bridges(...contactIds: number[]) {
  const { results } = await env.DB.prepare(
    "SELECT kind, emailContactId, phoneContactId FROM contact_bridges WHERE emailContactId IN (SELECT value FROM json_each(?1)) OR phoneContactId IN (SELECT value FROM json_each(?1)) ORDER BY id",
  )
    .bind(JSON.stringify(contactIds))
    .all();
  return results;
}

/** Expects `value` nowhere in the contacts table, in any column. */
async function expectGone(value: string): Promise<void> {
  expect(await storedRows("email = ?1 OR phoneNumber = ?1", value)).toEqual([]);
  const { results } = await env.DB.prepare("SELECT * FROM contacts").all();
  expect(JSON.stringify(results)).not.toContain(value);
}

let phones = 0;
const newPhone = () => `+5${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

describe("POST /erase", () => {
  it("splits the chain 1{a,p} 2{b,p} 3{b,q} erased at p into {1} and {2,3}, keeping every row", async () => {
    const [a, b] = [`${unique("a")}@x.io`, `${unique("b")}@x.io`];
    const [p, q] = [newPhone(), newPhone()];
    const one = await identify({ email: a, phoneNumber: p });
    const two = await identify({ email: b, phoneNumber: p });
    const three = await identify({ email: b, phoneNumber: q });
    const [id1] = [one.primaryContactId];
    const [id2, id3] = three.secondaryContactIds;
    expect(two.secondaryContactIds).toEqual([id2]);
    if (id2 === undefined || id3 === undefined) throw new Error("expected two secondaries");

    const erased = await erase({ phoneNumber: p });
    expect(erased).toEqual({
      erasedContactIds: [],
      clusters: [
        { primaryContactId: id1, emails: [a], phoneNumbers: [], secondaryContactIds: [] },
        { primaryContactId: id2, emails: [b], phoneNumbers: [q], secondaryContactIds: [id3] },
      ],
    });
    expect(
      (await storedRows("id IN (?, ?, ?)", id1, id2, id3)).map((r) => [
        r.id,
        r.email,
        r.phoneNumber,
        r.linkPrecedence,
        r.linkedId,
      ]),
    ).toEqual([
      [id1, a, null, "primary", null],
      [id2, b, null, "primary", null],
      [id3, b, q, "secondary", id2],
    ]);
    await expectGone(p);
    await expectInvariants();
    // The lookups agree, and nobody can find the erased value.
    expect(await (await callAsAdmin(`/contacts/${id3}`)).json()).toEqual(erased.clusters[1]);
    expect((await call("/lookup", { method: "POST", body: JSON.stringify({ phoneNumber: p }) })).status).toBe(404);
  });

  it("deletes a contact left with neither value, and says which", async () => {
    const email = `${unique("only")}@x.io`;
    const { primaryContactId } = await identify({ email });
    expect(await erase({ email })).toEqual({ erasedContactIds: [primaryContactId], clusters: [] });
    expect(await storedRows("id = ?", primaryContactId)).toEqual([]);
    expect((await callAsAdmin(`/contacts/${primaryContactId}`)).status).toBe(404);
    await expectInvariants();
  });

  it("erases a value from soft-deleted rows too", async () => {
    const email = `${unique("soft")}@x.io`;
    const phoneNumber = newPhone();
    const hidden = await insertRow({
      email,
      phoneNumber,
      linkPrecedence: "primary",
      deletedAt: "2024-01-01T00:00:00.000Z",
    });
    expect(await erase({ phoneNumber })).toEqual({ erasedContactIds: [], clusters: [] });
    expect(await storedRows("id = ?", hidden)).toMatchObject([{ email, phoneNumber: null }]);
    await expectGone(phoneNumber);
  });

  it("keeps the george/biff merge together when an unrelated value is erased", async () => {
    const [george, biff] = [`${unique("george")}@hillvalley.edu`, `${unique("biffsucks")}@hillvalley.edu`];
    const [g, b] = [newPhone(), newPhone()];
    const first = await identify({ email: george, phoneNumber: g });
    const second = await identify({ email: biff, phoneNumber: b });
    const merged = await identify({ email: george, phoneNumber: b });
    expect(merged.secondaryContactIds).toEqual([second.primaryContactId]);
    // The merge stored no row, but a bridge: george's contact (email) and biff's (phone).
    expect(await bridges(first.primaryContactId)).toEqual([
      { kind: "request", emailContactId: first.primaryContactId, phoneContactId: second.primaryContactId },
    ]);

    const erased = await erase({ phoneNumber: g });
    expect(erased).toEqual({
      erasedContactIds: [],
      clusters: [
        {
          primaryContactId: first.primaryContactId,
          emails: [george, biff],
          phoneNumbers: [b],
          secondaryContactIds: [second.primaryContactId],
        },
      ],
    });
    expect(await bridges(first.primaryContactId)).toHaveLength(1);
    await expectInvariants();
  });

  it("splits the george/biff merge in two when george's email is erased, and drops its bridge", async () => {
    const [george, biff] = [`${unique("george")}@hillvalley.edu`, `${unique("biffsucks")}@hillvalley.edu`];
    const [g, b] = [newPhone(), newPhone()];
    const first = await identify({ email: george, phoneNumber: g });
    const second = await identify({ email: biff, phoneNumber: b });
    await identify({ email: george, phoneNumber: b });

    const erased = await erase({ email: george });
    expect(erased).toEqual({
      erasedContactIds: [],
      clusters: [
        { primaryContactId: first.primaryContactId, emails: [], phoneNumbers: [g], secondaryContactIds: [] },
        { primaryContactId: second.primaryContactId, emails: [biff], phoneNumbers: [b], secondaryContactIds: [] },
      ],
    });
    expect(await bridges(first.primaryContactId, second.primaryContactId)).toEqual([]);
    await expectGone(george);
    await expectInvariants();
    // Sending george's email again later is a new request like any other.
    const again = await identify({ email: george, phoneNumber: b });
    expect(again.primaryContactId).toBe(second.primaryContactId);
  });

  it("erases an email and a phone of two different clusters in one request", async () => {
    const x = await identify({ email: `${unique("x")}@x.io`, phoneNumber: newPhone() });
    const y = await identify({ email: `${unique("y")}@x.io`, phoneNumber: newPhone() });
    const erased = await erase({ email: x.emails[0], phoneNumber: y.phoneNumbers[0] });
    expect(erased.erasedContactIds).toEqual([]);
    expect(erased.clusters).toEqual([
      { ...x, emails: [] },
      { ...y, phoneNumbers: [] },
    ]);
    await expectInvariants();
  });

  it("404 contact_not_found when nothing holds either value; 400 for a bad body; writes nothing", async () => {
    const before = await countRows();
    const res = await postErase({ email: `${unique("nobody")}@x.io`, phoneNumber: newPhone() });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "contact_not_found", message: expect.any(String) } });
    for (const body of [{}, { email: "nope" }, "not json"]) {
      const bad = await callAsAdmin("/erase", {
        method: "POST",
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(bad.status).toBe(400);
    }
    expect(await countRows()).toBe(before);
  });

  it("403 forbidden for a caller's token, and nothing is erased", async () => {
    const email = `${unique("kept")}@x.io`;
    await identify({ email });
    const res = await call("/erase", { method: "POST", body: JSON.stringify({ email }) });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    expect(await storedRows("email = ?", email)).toHaveLength(1);
    expect((await callAsAdmin("/erase")).status).toBe(405);
  });
});

describe("DELETE /contacts/{id}", () => {
  it("deletes every row of the cluster, bridges included, and keeps its history readable by a former id", async () => {
    const [george, biff] = [`${unique("george")}@hillvalley.edu`, `${unique("biff")}@hillvalley.edu`];
    const [g, b] = [newPhone(), newPhone()];
    const first = await identify({ email: george, phoneNumber: g });
    const second = await identify({ email: biff, phoneNumber: b });
    const merged = await identify({ email: george, phoneNumber: b });
    const extended = await identify({ email: `${unique("more")}@x.io`, phoneNumber: g });
    const ids = [merged.primaryContactId, ...extended.secondaryContactIds].sort((x, y) => x - y);

    const res = await callAsAdmin(`/contacts/${second.primaryContactId}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ erasedContactIds: ids });
    expect(await storedRows("id IN (SELECT value FROM json_each(?))", JSON.stringify(ids))).toEqual([]);
    expect(await bridges(...ids)).toEqual([]);
    for (const value of [george, biff, g, b]) await expectGone(value);
    await expectInvariants();

    for (const id of ids) expect((await callAsAdmin(`/contacts/${id}`)).status).toBe(404);
    const history = await callAsAdmin(`/contacts/${first.primaryContactId}/history`);
    expect(history.status).toBe(200);
    const { events } = await history.json<{ events: { kind: string; contactIds: number[]; requestId: string }[] }>();
    expect(events.map((e) => e.kind)).toEqual(["created", "created", "merged", "linked", "erased"]);
    expect(events.at(-1)).toMatchObject({
      kind: "erased",
      contactIds: ids,
      requestId: res.headers.get("x-request-id"),
    });
    expect(JSON.stringify(events)).not.toMatch(/hillvalley|@/);
  });

  it("404 for an unknown id, 400 for a bad one, 403 for a caller's token", async () => {
    expect((await callAsAdmin("/contacts/987654321", { method: "DELETE" })).status).toBe(404);
    expect((await callAsAdmin("/contacts/-4", { method: "DELETE" })).status).toBe(400);
    const { primaryContactId } = await identify({ email: `${unique("stay")}@x.io` });
    const res = await call(`/contacts/${primaryContactId}`, { method: "DELETE" });
    expect(res.status).toBe(403);
    expect(await storedRows("id = ?", primaryContactId)).toHaveLength(1);
    expect((await callAsAdmin(`/contacts/${primaryContactId}`, { method: "PUT" })).headers.get("allow")).toBe(
      "GET, DELETE",
    );
  });
});

describe("a malformed merge protection setting", () => {
  it("refuses an erasure with 500 before anything is erased", async () => {
    const email = `${unique("badconf")}@x.io`;
    const phoneNumber = "+4930555123";
    const { primaryContactId } = await identify({ email, phoneNumber });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    const broken = { MAX_EMAILS_PER_CLUSTER: "fifty" };
    const byValue = await callWith(broken, "/erase", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ email }),
    });
    expect(byValue.status).toBe(500);
    const byId = await callWith(broken, `/contacts/${primaryContactId}`, { method: "DELETE", headers: admin });
    expect(byId.status).toBe(500);
    expect(await storedRows("id = ?", primaryContactId)).toMatchObject([{ email, phoneNumber }]);
  });
});

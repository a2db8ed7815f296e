import { describe, expect, it } from "vitest";
import {
  call,
  callAsAdmin,
  callWith,
  countRows,
  identify,
  insertRow,
  NO_OBJECTS,
  recordingDb,
  storedRows,
  unique,
} from "../helpers";
import { ADMIN_TOKEN } from "../tokens";

const lookup = (body: unknown, init: RequestInit = {}) =>
  call("/lookup", { method: "POST", ...init, body: JSON.stringify(body) });

let phones = 0;
const newPhone = () => `+3${Date.now() % 1e9}${String(++phones).padStart(3, "0")}`;

describe("POST /lookup", () => {
  it("answers the cluster of a known email or phone, as /identify would", async () => {
    const email = `${unique("look")}@x.io`;
    const phoneNumber = newPhone();
    await identify({ email });
    const cluster = await identify({ email, phoneNumber });
    for (const body of [{ email }, { phoneNumber }, { email, phoneNumber }, { email: email.toUpperCase() }]) {
      const res = await lookup(body);
      expect(res.status).toBe(200);
      expect(res.headers.get("identity-ignored")).toBeNull();
      expect(await res.json()).toEqual(cluster);
    }
  });

  it("answers the email's cluster, and says so, when email and phone lie in different clusters", async () => {
    const a = await identify({ email: `${unique("a")}@x.io`, phoneNumber: newPhone() });
    const b = await identify({ email: `${unique("b")}@x.io`, phoneNumber: newPhone() });
    const before = await countRows();
    const res = await lookup({ email: a.emails[0], phoneNumber: b.phoneNumbers[0] });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBe("phoneNumber=other_cluster");
    expect(await res.json()).toEqual(a);
    // Nothing was merged: each cluster is as it was.
    expect(await countRows()).toBe(before);
    expect(await lookup({ phoneNumber: b.phoneNumbers[0] }).then((r) => r.json())).toEqual(b);
  });

  it("answers a known email with an unknown phone without linking them", async () => {
    const email = `${unique("solo")}@x.io`;
    const cluster = await identify({ email });
    const phoneNumber = newPhone();
    const res = await lookup({ email, phoneNumber });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(cluster);
    expect(await storedRows("phoneNumber = ?", phoneNumber)).toEqual([]);
  });

  it("404 contact_not_found for values nobody holds, creating nothing", async () => {
    const before = await countRows();
    const res = await lookup({ email: `${unique("nobody")}@x.io`, phoneNumber: newPhone() });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "contact_not_found", message: expect.any(String) } });
    expect(await countRows()).toBe(before);
  });

  it("400 for the same bad bodies as /identify", async () => {
    for (const body of [{}, { email: "not-an-email" }, { phoneNumber: "12" }, ["a list"]]) {
      const res = await lookup(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
    expect((await call("/lookup", { method: "GET" })).headers.get("allow")).toBe("POST");
  });

  it("is answered from one D1 statement, without any object and without writing", async () => {
    const email = `${unique("one-read")}@x.io`;
    const cluster = await identify({ email, phoneNumber: newPhone() });
    const { db, statements } = recordingDb();
    const res = await callWith({ DB: db, RECONCILER: NO_OBJECTS }, "/lookup", {
      method: "POST",
      body: JSON.stringify({ email }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(cluster);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^select /i);
  });

  it("is open to callers' tokens and to admin tokens", async () => {
    const email = `${unique("both")}@x.io`;
    await identify({ email });
    expect((await lookup({ email })).status).toBe(200);
    expect((await callAsAdmin("/lookup", { method: "POST", body: JSON.stringify({ email }) })).status).toBe(200);
    expect((await lookup({ email }, { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
  });
});

describe("GET /contacts/{id}", () => {
  it("answers the cluster of any of its contacts", async () => {
    const email = `${unique("byid")}@x.io`;
    await identify({ email });
    const cluster = await identify({ email, phoneNumber: newPhone() });
    for (const id of [cluster.primaryContactId, ...cluster.secondaryContactIds]) {
      const res = await callAsAdmin(`/contacts/${id}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(cluster);
    }
  });

  it("404 contact_not_found for an unknown id, or a soft-deleted one", async () => {
    const hidden = await insertRow({
      email: `${unique("hidden")}@x.io`,
      linkPrecedence: "primary",
      deletedAt: "2020-01-01T00:00:00.000Z",
    });
    for (const id of [999_999_999, hidden]) {
      const res = await callAsAdmin(`/contacts/${id}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "contact_not_found", message: expect.any(String) } });
    }
  });

  it.each(["0", "-1", "1.5", "abc", "1e3", "01", "99999999999999999"])("400 for the id %s", async (id) => {
    const res = await callAsAdmin(`/contacts/${id}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request", issues: [{ path: "id" }] } });
  });

  it("403 forbidden with a caller's token, 401 without a token", async () => {
    const { primaryContactId } = await identify({ email: `${unique("forbid")}@x.io` });
    const forbidden = await call(`/contacts/${primaryContactId}`);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: { code: "forbidden", message: expect.any(String) } });
    expect((await call(`/contacts/${primaryContactId}`, { headers: { authorization: "" } })).status).toBe(401);
  });

  it("is answered from one D1 statement, without any object and without writing", async () => {
    const cluster = await identify({ email: `${unique("one-read-id")}@x.io` });
    const { db, statements } = recordingDb();
    const res = await callWith({ DB: db, RECONCILER: NO_OBJECTS }, `/contacts/${cluster.primaryContactId}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(cluster);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^select /i);
  });
});

describe("POST /lookup screens blocked identifiers as /identify does", () => {
  it("drops a blocked phone, answers by the email, and says so", async () => {
    const cluster = await identify({ email: `${unique("screen")}@x.io`, phoneNumber: newPhone() });
    const res = await lookup({ email: cluster.emails[0], phoneNumber: "0000000000" });
    expect(res.status).toBe(200);
    expect(res.headers.get("identity-ignored")).toBe("phoneNumber=blocked");
    expect(await res.json()).toEqual(cluster);
  });

  it("refuses with 422 when every identifier is blocked, even one stored before the rules", async () => {
    const legacy = await insertRow({ email: "test@test.com", phoneNumber: null, linkPrecedence: "primary" });
    const res = await lookup({ email: "TEST@test.com" });
    expect(res.status).toBe(422);
    expect(res.headers.get("identity-ignored")).toBe("email=blocked");
    expect(JSON.stringify(await res.json())).not.toContain(String(legacy));
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clusterRows, countRows, expectInvariants, identify, insertRow, storedRows, unique } from "../helpers";

describe("the seed's examples", () => {
  it("creates, links and extends one customer", async () => {
    const email = `${unique("foo")}@bar.com`;
    const phone = `+91${Date.now() % 10_000_000_000}`;
    const newEmail = `${unique("newemail")}@example.com`;

    const first = await identify({ email });
    expect(first).toEqual({
      primaryContactId: first.primaryContactId,
      emails: [email],
      phoneNumbers: [],
      secondaryContactIds: [],
    });

    const second = await identify({ email, phoneNumber: phone });
    expect(second.primaryContactId).toBe(first.primaryContactId);
    expect(second.emails).toEqual([email]);
    expect(second.phoneNumbers).toEqual([phone]);
    expect(second.secondaryContactIds).toHaveLength(1);

    const third = await identify({ email: newEmail, phoneNumber: phone });
    expect(third.primaryContactId).toBe(first.primaryContactId);
    expect(third.emails).toEqual([email, newEmail]);
    expect(third.phoneNumbers).toEqual([phone]);
    expect(third.secondaryContactIds).toHaveLength(2);
    expect(third.secondaryContactIds[0]).toBe(second.secondaryContactIds[0]);

    const rows = await clusterRows(first.primaryContactId);
    expect(rows.map((r) => [r.email, r.phoneNumber, r.linkPrecedence, r.linkedId])).toEqual([
      [email, null, "primary", null],
      [email, phone, "secondary", first.primaryContactId],
      [newEmail, phone, "secondary", first.primaryContactId],
    ]);
    await expectInvariants();
  });
});

describe("the original task's worked examples", () => {
  it("links mcfly to lorraine through a shared phone, and answers the same for every identifier", async () => {
    const lorraine = await identify({ email: "lorraine@hillvalley.edu", phoneNumber: "123456" });
    const mcfly = await identify({ email: "mcfly@hillvalley.edu", phoneNumber: "123456" });
    const expected = {
      primaryContactId: lorraine.primaryContactId,
      emails: ["lorraine@hillvalley.edu", "mcfly@hillvalley.edu"],
      phoneNumbers: ["123456"],
      secondaryContactIds: mcfly.secondaryContactIds,
    };
    expect(mcfly).toEqual(expected);
    expect(mcfly.secondaryContactIds).toHaveLength(1);

    const before = await countRows();
    for (const body of [
      { email: null, phoneNumber: "123456" },
      { email: "lorraine@hillvalley.edu" },
      { email: "mcfly@hillvalley.edu", phoneNumber: null },
      { email: "lorraine@hillvalley.edu", phoneNumber: "123456" },
    ]) {
      expect(await identify(body)).toEqual(expected);
    }
    expect(await countRows()).toBe(before);

    const [secondary] = await storedRows("id = ?", mcfly.secondaryContactIds[0]);
    expect(secondary).toMatchObject({
      email: "mcfly@hillvalley.edu",
      phoneNumber: "123456",
      linkPrecedence: "secondary",
      linkedId: lorraine.primaryContactId,
    });
  });

  it("merges george's and biff's clusters when a request bridges them, creating no row", async () => {
    const george = await identify({ email: "george@hillvalley.edu", phoneNumber: "919191" });
    const biff = await identify({ email: "biffsucks@hillvalley.edu", phoneNumber: "717171" });
    expect(biff.primaryContactId).not.toBe(george.primaryContactId);
    const [biffBefore] = await storedRows("id = ?", biff.primaryContactId);

    const before = await countRows();
    const merged = await identify({ email: "george@hillvalley.edu", phoneNumber: "717171" });
    expect(merged).toEqual({
      primaryContactId: george.primaryContactId,
      emails: ["george@hillvalley.edu", "biffsucks@hillvalley.edu"],
      phoneNumbers: ["919191", "717171"],
      secondaryContactIds: [biff.primaryContactId],
    });
    expect(await countRows()).toBe(before);

    const [biffAfter] = await storedRows("id = ?", biff.primaryContactId);
    expect(biffAfter).toMatchObject({ linkPrecedence: "secondary", linkedId: george.primaryContactId });
    expect(biffAfter?.createdAt).toBe(biffBefore?.createdAt);
    expect(biffAfter && biffBefore && biffAfter.updatedAt > biffBefore.updatedAt).toBe(true);
    await expectInvariants();
  });
});

describe("reconciliation rules", () => {
  it("merges a chain of three clusters one bridge at a time, re-pointing secondaries to the oldest primary", async () => {
    const [a, b, c] = [unique("a"), unique("b"), unique("c")];
    const one = await identify({ email: `${a}@x.io`, phoneNumber: "1000001" });
    await identify({ email: `${a}-2@x.io`, phoneNumber: "1000001" });
    const two = await identify({ email: `${b}@x.io`, phoneNumber: "2000002" });
    const twoSecondary = await identify({ email: `${b}-2@x.io`, phoneNumber: "2000002" });
    const three = await identify({ email: `${c}@x.io`, phoneNumber: "3000003" });

    // Bridge 2 and 3 first: 2 is older, so 3 becomes its secondary.
    const twoThree = await identify({ email: `${b}@x.io`, phoneNumber: "3000003" });
    expect(twoThree.primaryContactId).toBe(two.primaryContactId);
    expect(twoThree.secondaryContactIds).toEqual([...twoSecondary.secondaryContactIds, three.primaryContactId]);

    // Then 1 and 2: every contact of 2 (and of 3, now in 2) moves under 1, with no chains.
    const all = await identify({ email: `${a}-2@x.io`, phoneNumber: "3000003" });
    expect(all.primaryContactId).toBe(one.primaryContactId);
    expect(all.emails).toEqual([`${a}@x.io`, `${a}-2@x.io`, `${b}@x.io`, `${b}-2@x.io`, `${c}@x.io`]);
    expect(all.phoneNumbers).toEqual(["1000001", "2000002", "3000003"]);
    expect(all.secondaryContactIds).toHaveLength(4);

    const rows = await clusterRows(one.primaryContactId);
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.linkPrecedence === "primary").map((r) => r.id)).toEqual([one.primaryContactId]);
    for (const row of rows.filter((r) => r.id !== one.primaryContactId)) {
      expect(row).toMatchObject({ linkPrecedence: "secondary", linkedId: one.primaryContactId });
    }
    await expectInvariants();
  });

  it("creates nothing the second time the same request is sent", async () => {
    const body = { email: `${unique("twice")}@x.io`, phoneNumber: "+44 20 7946 0958" };
    const first = await identify(body);
    const rowsAfterFirst = await storedRows();
    const second = await identify(body);
    expect(second).toEqual(first);
    expect(await storedRows()).toEqual(rowsAfterFirst);
  });

  it("stores normalised identifiers and treats formatting variants as the same phone", async () => {
    const email = `${unique("Mixed")}@Example.COM`;
    const first = await identify({ email: `  ${email} `, phoneNumber: "+91 (99999) 999-99" });
    expect(first.emails).toEqual([email.toLowerCase()]);
    expect(first.phoneNumbers).toEqual(["+919999999999"]);
    const [row] = await storedRows("id = ?", first.primaryContactId);
    expect(row).toMatchObject({ email: email.toLowerCase(), phoneNumber: "+919999999999" });

    const again = await identify({ phoneNumber: "+919999999999" });
    expect(again.primaryContactId).toBe(first.primaryContactId);
    // No country is guessed: without the + it is another phone, hence another customer.
    const other = await identify({ phoneNumber: "919999999999" });
    expect(other.primaryContactId).not.toBe(first.primaryContactId);
  });

  it("accepts a phone number sent as a JSON integer", async () => {
    const res = await identify({ phoneNumber: 5550001234 });
    expect(res.phoneNumbers).toEqual(["5550001234"]);
    expect((await identify({ phoneNumber: "555-000-1234" })).primaryContactId).toBe(res.primaryContactId);
  });

  it("ignores soft-deleted contacts: they match nothing and are never returned", async () => {
    const email = `${unique("ghost")}@x.io`;
    const deletedId = await insertRow({
      email,
      phoneNumber: "4040404",
      linkPrecedence: "primary",
      deletedAt: new Date().toISOString(),
    });
    const res = await identify({ email, phoneNumber: "4040404" });
    expect(res.primaryContactId).not.toBe(deletedId);
    expect(res.secondaryContactIds).toEqual([]);
    const [row] = await storedRows("id = ?", res.primaryContactId);
    expect(row).toMatchObject({ linkPrecedence: "primary", linkedId: null, email });
    const [deleted] = await storedRows("id = ?", deletedId);
    expect(deleted?.deletedAt).not.toBeNull();
    expect(deleted?.linkPrecedence).toBe("primary");
  });

  it("promotes the oldest live contact when a cluster's primary was soft-deleted", async () => {
    const email = `${unique("orphan")}@x.io`;
    const primary = await identify({ email, phoneNumber: "6060601" });
    const secondary = await identify({ email, phoneNumber: "6060602" });
    const third = await identify({ email, phoneNumber: "6060603" });
    await storedRows("id = ?", primary.primaryContactId);
    await env.DB.prepare("UPDATE contacts SET deletedAt = ? WHERE id = ?")
      .bind(new Date().toISOString(), primary.primaryContactId)
      .run();

    const [oldestLive, youngest] = [secondary.secondaryContactIds[0], third.secondaryContactIds[1]];
    const res = await identify({ phoneNumber: "6060603" });
    expect(res).toEqual({
      primaryContactId: oldestLive,
      emails: [email],
      phoneNumbers: ["6060602", "6060603"],
      secondaryContactIds: [youngest],
    });
    const rows = await storedRows("id IN (?, ?)", oldestLive, youngest);
    expect(rows.map((r) => [r.id, r.linkPrecedence, r.linkedId])).toEqual([
      [oldestLive, "primary", null],
      [youngest, "secondary", oldestLive],
    ]);
    await expectInvariants();
  });
});

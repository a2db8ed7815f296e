import { describe, expect, it } from "vitest";
import { ownerKey } from "../../src/durable/routing";

describe("ownerKey", () => {
  it("names the object after the cluster's oldest contact", async () => {
    const row = (id: number, minute: number) => ({
      id,
      email: null,
      phoneNumber: "123",
      linkedId: null,
      linkPrecedence: "primary" as const,
      createdAt: `2026-01-01T00:0${minute}:00.000Z`,
    });
    expect(await ownerKey([row(7, 2), row(9, 1)], { phoneNumber: "123" })).toBe("contact:9");
  });

  it("names a new contact's object after a digest of its email, else its phone, never the raw value", async () => {
    const byEmail = await ownerKey([], { email: "foo@bar.com", phoneNumber: "123456" });
    expect(byEmail).toMatch(/^new:[0-9a-f]{64}$/);
    expect(byEmail).not.toContain("foo");
    expect(await ownerKey([], { email: "foo@bar.com" })).toBe(byEmail);
    const byPhone = await ownerKey([], { phoneNumber: "123456" });
    expect(byPhone).toMatch(/^new:[0-9a-f]{64}$/);
    expect(byPhone).not.toBe(byEmail);
  });
});

import { describe, expect, it } from "vitest";
import { DEFAULT_NEW_CONTACT_OBJECTS, newContactObjects, ownerKey } from "../../src/durable/routing";

describe("ownerKey", () => {
  it("names the object after the cluster's oldest contact", () => {
    const row = (id: number, minute: number) => ({
      id,
      email: null,
      phoneNumber: "123",
      linkedId: null,
      linkPrecedence: "primary" as const,
      createdAt: `2026-01-01T00:0${minute}:00.000Z`,
    });
    expect(ownerKey([row(7, 2), row(9, 1)], { phoneNumber: "123" }, 16)).toBe("contact:9");
  });

  it("sends a new contact to one of the warm objects, by a digest of its email, else its phone", () => {
    const byEmail = ownerKey([], { email: "foo@bar.com", phoneNumber: "123456" }, 16);
    expect(byEmail).toMatch(/^new:([0-9]|1[0-5])$/);
    expect(ownerKey([], { email: "foo@bar.com" }, 16)).toBe(byEmail);
    expect(ownerKey([], { phoneNumber: "123456" }, 16)).toMatch(/^new:([0-9]|1[0-5])$/);
    expect(ownerKey([], { email: "foo@bar.com" }, 1)).toBe("new:0");
  });

  it("spreads new contacts over every warm object, and over no other", () => {
    const names = new Map<string, number>();
    for (let i = 0; i < 1600; i++) {
      const name = ownerKey([], { email: `customer${i}@shop.example` }, 16);
      names.set(name, (names.get(name) ?? 0) + 1);
    }
    expect([...names.keys()].sort()).toEqual(Array.from({ length: 16 }, (_, i) => `new:${i}`).sort());
    for (const count of names.values()) expect(count).toBeGreaterThan(50);
  });
});

describe("newContactObjects", () => {
  it("reads NEW_CONTACT_OBJECTS, and falls back to the default when it is unset or invalid", () => {
    expect(newContactObjects({ NEW_CONTACT_OBJECTS: "4" })).toBe(4);
    for (const bad of ["", "0", "-2", "2.5", "many", "5000"]) {
      expect(newContactObjects({ NEW_CONTACT_OBJECTS: bad }), bad).toBe(DEFAULT_NEW_CONTACT_OBJECTS);
    }
  });
});

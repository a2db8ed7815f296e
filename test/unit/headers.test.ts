import { expect, it } from "vitest";
import { withHeaders } from "../../src/http/headers";

it("edits our own responses in place and copies one whose headers are immutable", () => {
  const own = Response.json({ ok: true });
  expect(withHeaders(own, (h) => h.set("X-Request-Id", "a"))).toBe(own);
  expect(own.headers.get("X-Request-Id")).toBe("a");

  const immutable = Response.redirect("https://identity.test/elsewhere", 302);
  expect(() => immutable.headers.set("X-Test", "1")).toThrow();
  const copy = withHeaders(immutable, (h) => h.set("X-Request-Id", "b"));
  expect(copy).not.toBe(immutable);
  expect([copy.status, copy.headers.get("location"), copy.headers.get("X-Request-Id")]).toEqual([
    302,
    "https://identity.test/elsewhere",
    "b",
  ]);
});

import { describe, expect, it } from "vitest";
import { call, callWith, unique } from "../helpers";

const APP = "https://app.example.com";
const OTHER = "https://evil.example.net";
const withOrigins = { ALLOWED_ORIGINS: ` ${APP} , https://admin.example.com` };

const preflightFrom = (origin: string) => ({
  method: "OPTIONS",
  headers: {
    authorization: "",
    origin,
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
  },
});

const CORS_HEADERS = [
  "access-control-allow-origin",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-expose-headers",
];

function expectNoCors(res: Response): void {
  for (const name of CORS_HEADERS) expect(res.headers.get(name), name).toBeNull();
}

describe("CORS off (ALLOWED_ORIGINS empty, as wrangler.toml ships)", () => {
  it("answers no preflight and sends no CORS headers", async () => {
    const preflight = await call("/identify", preflightFrom(APP));
    // Just another unauthenticated request: refused, and nothing lets a browser read it.
    expect(preflight.status).toBe(401);
    expectNoCors(preflight);

    const res = await call("/identify", {
      method: "POST",
      headers: { origin: APP },
      body: JSON.stringify({ email: `${unique("nocors")}@x.io` }),
    });
    expect(res.status).toBe(200);
    expectNoCors(res);
    expect(res.headers.get("vary")).toBeNull();
  });
});

describe("CORS on (ALLOWED_ORIGINS set)", () => {
  it("answers a preflight from an allowed origin without a token, for that origin only", async () => {
    const res = await callWith(withOrigins, "/identify", preflightFrom(APP));
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    // Every method a route answers: DELETE too, so an admin page can erase a contact.
    expect(res.headers.get("access-control-allow-methods")?.split(", ")).toEqual([
      "GET",
      "HEAD",
      "POST",
      "DELETE",
      "OPTIONS",
    ]);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("access-control-max-age")).toBe("600");
    expect(res.headers.get("vary")).toContain("Origin");
    expect(await res.text()).toBe("");
  });

  it("does not answer a preflight from any other origin", async () => {
    const res = await callWith(withOrigins, "/identify", preflightFrom(OTHER));
    expect(res.status).toBe(401);
    expectNoCors(res);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("lets an allowed origin read answers, errors included, and their request id", async () => {
    const ok = await callWith(withOrigins, "/identify", {
      method: "POST",
      headers: { origin: "https://admin.example.com" },
      body: JSON.stringify({ email: `${unique("cors")}@x.io` }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
    expect(ok.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    expect(ok.headers.get("vary")).toContain("Origin");

    const refused = await callWith(withOrigins, "/identify", {
      method: "POST",
      headers: { origin: APP, authorization: "" },
      body: "{}",
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(APP);
    expect(refused.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
  });

  it("gives another origin the answer but no permission to read it", async () => {
    const res = await callWith(withOrigins, "/health", { headers: { origin: OTHER } });
    expect(res.status).toBe(200);
    expectNoCors(res);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("treats a look-alike origin as another origin", async () => {
    for (const origin of [`${APP}.evil.net`, "http://app.example.com", `${APP}:8443`, "null"]) {
      const res = await callWith(withOrigins, "/identify", preflightFrom(origin));
      expect(res.status, origin).toBe(401);
      expectNoCors(res);
    }
  });
});

import { env } from "cloudflare:workers";
import { type Schema, Validator } from "@cfworker/json-schema";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_BODY_BYTES } from "../../src/contract/request";
import { database } from "../../src/db/client";
import { deliverStep, NO_DELIVERY } from "../../src/durable/delivery";
import { parseWebhookConfig } from "../../src/webhooks/config";
import { call, callAsAdmin, callWith, d1Sessions, insertRow, postIdentify, unique } from "../helpers";
import { FEED_TOKEN } from "../tokens";

// The contract test: what the Worker really answers, successes and every error, must
// validate against the document it serves at /openapi.json.

const DOC_ID = "https://identity.test/openapi.json";

// Just the parts of an OpenAPI 3.1 document this test reads (openapi-types' 3.1 types do not
// compose: several of its objects still nest their 3.0 counterparts).
type Ref = { $ref: string };
type Resolvable<T> = T | Ref;
type Media = { schema?: Resolvable<Schema>; examples?: Record<string, Resolvable<{ value?: unknown }>> };
type Header = { required?: boolean };
type ResponseSpec = { headers?: Record<string, Resolvable<Header>>; content?: Record<string, Media> };
type Operation = {
  security?: unknown[];
  requestBody?: Resolvable<{ content: Record<string, Media> }>;
  responses: Record<string, Resolvable<ResponseSpec>>;
};
type Document = {
  security?: unknown[];
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
  components: {
    responses: Record<string, Resolvable<ResponseSpec>>;
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, unknown>;
  };
};

let doc: Document;

beforeAll(async () => {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = await res.json<Document>();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Follows a local `#/components/...` reference inside the document. */
function resolve<T extends object>(node: Resolvable<T>): T {
  if (!("$ref" in node)) return node;
  let target: unknown = doc;
  for (const key of node.$ref.replace(/^#\//, "").split("/")) {
    target = (target as Record<string, unknown>)[key];
    if (target === undefined) throw new Error(`unresolvable ${node.$ref}`);
  }
  return target as T;
}

/**
 * A JSON Schema 2020-12 validator for one schema of the document; its `#/components/...`
 * references resolve inside the whole document, registered under its own id.
 */
function validatorFor(schema: Resolvable<Schema>): Validator {
  const validator = new Validator("$ref" in schema ? { $ref: `${DOC_ID}${schema.$ref}` } : schema, "2020-12", false);
  validator.addSchema(doc as Schema, DOC_ID);
  return validator;
}

function expectValid(schema: Resolvable<Schema>, value: unknown, what: string): void {
  const { valid, errors } = validatorFor(schema).validate(value);
  expect(valid, `${what}: ${JSON.stringify(errors, null, 1)}`).toBe(true);
}

/**
 * The response the document declares for this operation and status. 404 and 405 belong to
 * no operation (an unknown path, a method a path does not have): the document declares them
 * once, as components.responses.NotFound and MethodNotAllowed.
 */
function declaredResponse(method: string, path: string, status: number): ResponseSpec {
  const declared = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
  if (declared) return resolve(declared);
  const { NotFound, MethodNotAllowed } = doc.components.responses;
  const named = status === 404 ? NotFound : status === 405 ? MethodNotAllowed : undefined;
  if (named) return resolve(named);
  throw new Error(`the document declares no ${status} for ${method} ${path}`);
}

/** Holds a real response to the document: status, declared headers, media type and body. */
async function expectDocumented(method: string, path: string, res: Response): Promise<unknown> {
  const declared = declaredResponse(method, path, res.status);
  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    if (resolve(header).required) expect(res.headers.get(name), `${res.status} header ${name}`).not.toBeNull();
  }
  const text = await res.text();
  const media = declared.content?.["application/json"];
  if (!media) {
    expect(text, `${method} ${path} ${res.status} declares no body`).toBe("");
    return undefined;
  }
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(text);
  expectValid(media.schema ?? {}, body, `${method} ${path} ${res.status}`);
  return body;
}

const post = (body: BodyInit) =>
  call("/identify", { method: "POST", headers: { "content-type": "application/json" }, body });

describe("what the Worker answers validates against /openapi.json", () => {
  it("200 from POST /identify", async () => {
    const res = await postIdentify({ email: `${unique("spec")}@example.com`, phoneNumber: "+1 (555) 010-0000" });
    expect(res.status).toBe(200);
    await expectDocumented("POST", "/identify", res);
  });

  it("200 from GET and HEAD /health, and GET /openapi.json, all without a token", async () => {
    const anonymous = { headers: { authorization: "" } };
    await expectDocumented("GET", "/health", await call("/health", anonymous));
    await expectDocumented("HEAD", "/health", await call("/health", { ...anonymous, method: "HEAD" }));
    await expectDocumented("GET", "/openapi.json", await call("/openapi.json", anonymous));
  });

  it("GET /events: 200 with every kind of event, 400 invalid_cursor and invalid_limit, 403 for a caller's token", async () => {
    const asFeed = { headers: { authorization: `Bearer ${FEED_TOKEN}` } };
    // A merge (with its bridge), then an erasure that splits it (split, erased) and a deletion.
    const tag = unique("oafeed");
    const [a, b] = [`${tag}a@x.io`, `${tag}b@x.io`];
    await postIdentify({ email: a, phoneNumber: "+4455501" });
    const other = await (await postIdentify({ email: b, phoneNumber: "+4455502" })).json<{
      primaryContactId: number;
    }>();
    await postIdentify({ email: a, phoneNumber: "+4455502" });
    await postIdentify({ email: `${tag}c@x.io`, phoneNumber: "+4455502" });
    expect((await callAsAdmin("/erase", { method: "POST", body: JSON.stringify({ email: a }) })).status).toBe(200);
    expect((await callAsAdmin(`/contacts/${other.primaryContactId}`, { method: "DELETE" })).status).toBe(200);

    const body = (await expectDocumented("GET", "/events", await call("/events?limit=1000", asFeed))) as {
      events: { kind: string }[];
    };
    expect(new Set(body.events.map((event) => event.kind))).toEqual(
      new Set(["created", "linked", "merged", "split", "erased"]),
    );
    await expectDocumented("GET", "/events", await callAsAdmin("/events?limit=1"));
    for (const query of ["?after=nope", "?limit=0"]) {
      await expectDocumented("GET", "/events", await call(`/events${query}`, asFeed));
    }
    await expectDocumented("GET", "/events", await call("/events"));
  });

  it("200 from GET /events/delivery, and 403 for a caller's token", async () => {
    await expectDocumented("GET", "/events/delivery", await callAsAdmin("/events/delivery"));
    await expectDocumented("GET", "/events/delivery", await call("/events/delivery"));
  });

  it("a webhook delivery's body, from real events, against the events webhook", async () => {
    const email = `${unique("spec-hook")}@example.com`;
    await postIdentify({ email });
    await postIdentify({ email, phoneNumber: `+1557${String(Date.now()).slice(-7)}` });
    const config = parseWebhookConfig("https://hooks.example.com/", `whsec_${btoa("k".repeat(32))}`);
    if (config === undefined) throw new Error("no webhook config");
    const bodies: string[] = [];
    const newest = await env.DB.prepare("SELECT max(id) AS id FROM contact_events").first<{ id: number }>();
    await deliverStep({
      db: database(env.DB),
      config,
      state: { ...NO_DELIVERY, acknowledged: (newest?.id ?? 2) - 2 },
      save: async () => {},
      send: async (request) => {
        bodies.push(await request.text());
        return new Response(null, { status: 204 });
      },
      backoffBaseMs: 1000,
    });
    const body = JSON.parse(bodies[0] ?? "null") as { events: { kind: string }[] };
    expect(body.events.map((event) => event.kind)).toEqual(["created", "linked"]);
    const media = resolve(doc.webhooks.events?.post?.requestBody ?? { $ref: "#/missing" }).content["application/json"];
    expect(media?.schema).toEqual({ $ref: "#/components/schemas/WebhookPayload" });
    expectValid(media?.schema ?? {}, body, "the events webhook");
    // The schema does hold bodies to it: no delivery is empty.
    expect(validatorFor(media?.schema ?? {}).validate({ events: [] }).valid).toBe(false);
  });

  it.each([
    ["invalid_request", JSON.stringify({ email: "not-an-email" })],
    ["invalid_request", JSON.stringify({ email: " ", phoneNumber: null })],
    ["invalid_request", JSON.stringify(["a list"])],
    ["invalid_json", "{ nope"],
    ["invalid_body", new Uint8Array([0x7b, 0xff, 0x7d])],
  ])("400 %s", async (code, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await expectDocumented("POST", "/identify", res)).toMatchObject({ error: { code } });
  });

  it("413 for a body over the limit", async () => {
    const res = await post(JSON.stringify({ email: "a@b.co", padding: "x".repeat(MAX_BODY_BYTES) }));
    expect(res.status).toBe(413);
    await expectDocumented("POST", "/identify", res);
  });

  it("POST /lookup: 200 (with Identity-Ignored), 400 and 404 contact_not_found", async () => {
    const a = { email: `${unique("spec-a")}@example.com`, phoneNumber: `+1555${String(Date.now()).slice(-7)}` };
    const b = { email: `${unique("spec-b")}@example.com`, phoneNumber: `+1556${String(Date.now()).slice(-7)}` };
    await postIdentify(a);
    await postIdentify(b);
    const lookup = (body: unknown) => call("/lookup", { method: "POST", body: JSON.stringify(body) });
    const found = await lookup({ email: a.email, phoneNumber: b.phoneNumber });
    expect(found.status).toBe(200);
    expect(found.headers.get("identity-ignored")).toBe("phoneNumber=other_cluster");
    await expectDocumented("POST", "/lookup", found);
    const bad = await lookup({ email: "nope" });
    expect(bad.status).toBe(400);
    await expectDocumented("POST", "/lookup", bad);
    const missing = await lookup({ email: `${unique("spec-none")}@example.com` });
    expect(missing.status).toBe(404);
    expect(await expectDocumented("POST", "/lookup", missing)).toMatchObject({ error: { code: "contact_not_found" } });
  });

  it("POST /erase, DELETE /contacts/{id} and GET /contacts/{id}/history: 200, 400, 403 and 404", async () => {
    const email = `${unique("spec-erase")}@example.com`;
    const created = await postIdentify({ email, phoneNumber: `+1557${String(Date.now()).slice(-7)}` });
    const { primaryContactId } = await created.json<{ primaryContactId: number }>();
    const erase = (body: unknown, as = callAsAdmin) => as("/erase", { method: "POST", body: JSON.stringify(body) });

    const history = await callAsAdmin(`/contacts/${primaryContactId}/history`);
    expect(history.status).toBe(200);
    await expectDocumented("GET", "/contacts/{id}/history", history);
    const erased = await erase({ email });
    expect(erased.status).toBe(200);
    expect(await expectDocumented("POST", "/erase", erased)).toMatchObject({ erasedContactIds: [] });
    const deleted = await callAsAdmin(`/contacts/${primaryContactId}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    await expectDocumented("DELETE", "/contacts/{id}", deleted);

    for (const [method, path, res] of [
      ["POST", "/erase", await erase({ email })],
      ["POST", "/erase", await erase({ email: "nope" })],
      ["POST", "/erase", await erase({ email }, call)],
      ["DELETE", "/contacts/{id}", await callAsAdmin(`/contacts/${primaryContactId}`, { method: "DELETE" })],
      ["DELETE", "/contacts/{id}", await callAsAdmin("/contacts/x", { method: "DELETE" })],
      ["DELETE", "/contacts/{id}", await call(`/contacts/${primaryContactId}`, { method: "DELETE" })],
      ["GET", "/contacts/{id}/history", await callAsAdmin("/contacts/987654321/history")],
      ["GET", "/contacts/{id}/history", await callAsAdmin("/contacts/0/history")],
      ["GET", "/contacts/{id}/history", await call(`/contacts/${primaryContactId}/history`)],
    ] as const) {
      expect([400, 403, 404], `${method} ${path}`).toContain(res.status);
      await expectDocumented(method, path, res);
    }
    // The former id still reads its history, now with the erasure in it.
    const after = await callAsAdmin(`/contacts/${primaryContactId}/history`);
    expect(await expectDocumented("GET", "/contacts/{id}/history", after)).toMatchObject({
      events: [{ kind: "created" }, { kind: "erased" }, { kind: "erased" }],
    });
  });

  it("merge repair: graph, explain, unmerge and separations, with their errors", async () => {
    const tag = unique("spec-repair");
    const [home, office] = [`+1556${String(Date.now()).slice(-7)}`, `+1554${String(Date.now()).slice(-7)}`];
    const first = await (await postIdentify({ email: `${tag}a@example.com`, phoneNumber: home })).json<{
      primaryContactId: number;
    }>();
    const other = await (await postIdentify({ email: `${tag}b@example.com`, phoneNumber: office })).json<{
      primaryContactId: number;
    }>();
    await postIdentify({ email: `${tag}a@example.com`, phoneNumber: office });
    const [a, b] = [first.primaryContactId, other.primaryContactId];
    const graph = await callAsAdmin(`/contacts/${a}/graph`);
    const { links } = (await expectDocumented("GET", "/contacts/{id}/graph", graph)) as {
      links: { bridgeId?: number }[];
    };
    const bridgeId = links.find((link) => link.bridgeId !== undefined)?.bridgeId;
    await expectDocumented("GET", "/contacts/{id}/explain", await callAsAdmin(`/contacts/${a}/explain?to=${b}`));
    const unmerge = (id: number, body: unknown) =>
      callAsAdmin(`/contacts/${id}/unmerge`, { method: "POST", body: JSON.stringify(body) });
    const unmerged = await unmerge(a, { bridgeId });
    expect(unmerged.status).toBe(200);
    await expectDocumented("POST", "/contacts/{id}/unmerge", unmerged);
    const listed = await callAsAdmin(`/contacts/${b}/separations`);
    const [separation] = (await expectDocumented("GET", "/contacts/{id}/separations", listed)) as { id: number }[];
    const lifted = await callAsAdmin(`/separations/${separation?.id}`, { method: "DELETE" });
    expect(lifted.status).toBe(200);
    await expectDocumented("DELETE", "/separations/{id}", lifted);

    const legacy = await insertRow({
      email: `${tag}x@example.com`,
      phoneNumber: home.replace("+1556", "+1553"),
      linkPrecedence: "primary",
    });
    const twin = await insertRow({
      email: `${tag}y@example.com`,
      phoneNumber: home.replace("+1556", "+1553"),
      linkPrecedence: "secondary",
      linkedId: legacy,
    });
    const cycle = await env.DB.prepare(
      "INSERT INTO contact_bridges (kind, emailContactId, phoneContactId) VALUES ('legacy', ?1, ?2) RETURNING id",
    )
      .bind(legacy, twin)
      .first<{ id: number }>();
    for (const [method, path, res, status] of [
      ["GET", "/contacts/{id}/graph", await callAsAdmin("/contacts/0/graph"), 400],
      ["GET", "/contacts/{id}/graph", await callAsAdmin("/contacts/987654321/graph"), 404],
      ["GET", "/contacts/{id}/graph", await call(`/contacts/${a}/graph`), 403],
      ["GET", "/contacts/{id}/explain", await callAsAdmin(`/contacts/${a}/explain?to=x`), 400],
      ["GET", "/contacts/{id}/explain", await callAsAdmin(`/contacts/${a}/explain?to=987654321`), 404],
      ["GET", "/contacts/{id}/explain", await callAsAdmin(`/contacts/${a}/explain?to=${b}`), 409],
      ["POST", "/contacts/{id}/unmerge", await unmerge(a, { bridgeId: "x" }), 400],
      ["POST", "/contacts/{id}/unmerge", await unmerge(a, { bridgeId }), 404],
      ["POST", "/contacts/{id}/unmerge", await unmerge(twin, { bridgeId: cycle?.id }), 409],
      ["GET", "/contacts/{id}/separations", await callAsAdmin("/contacts/987654321/separations"), 404],
      ["DELETE", "/separations/{id}", await callAsAdmin(`/separations/${separation?.id}`, { method: "DELETE" }), 404],
      ["DELETE", "/separations/{id}", await callAsAdmin("/separations/x", { method: "DELETE" }), 400],
    ] as const) {
      expect(res.status, `${method} ${path}`).toBe(status);
      await expectDocumented(method, path, res);
    }
  });

  it("GET /contacts/{id}: 200, 400, 403 and 404 contact_not_found", async () => {
    const created = await postIdentify({ email: `${unique("spec-id")}@example.com` });
    const { primaryContactId } = await created.json<{ primaryContactId: number }>();
    const path = "/contacts/{id}";
    const ok = await callAsAdmin(`/contacts/${primaryContactId}`);
    expect(ok.status).toBe(200);
    await expectDocumented("GET", path, ok);
    const bad = await callAsAdmin("/contacts/zero");
    expect(bad.status).toBe(400);
    await expectDocumented("GET", path, bad);
    const missing = await callAsAdmin("/contacts/987654321");
    expect(missing.status).toBe(404);
    expect(await expectDocumented("GET", path, missing)).toMatchObject({ error: { code: "contact_not_found" } });
    const forbidden = await call(`/contacts/${primaryContactId}`);
    expect(forbidden.status).toBe(403);
    await expectDocumented("GET", path, forbidden);
  });

  it("404 for an unknown path, 405 for a known path with another method", async () => {
    const notFound = await call("/nowhere");
    expect(notFound.status).toBe(404);
    await expectDocumented("GET", "/nowhere", notFound);

    for (const [method, path] of [
      ["GET", "/identify"],
      ["POST", "/health"],
      ["DELETE", "/openapi.json"],
    ] as const) {
      const res = await call(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      await expectDocumented(method, path, res);
    }
  });

  it("401 without a token, or with an unknown one", async () => {
    for (const authorization of ["", "Bearer not-a-configured-token"]) {
      const res = await call("/identify", { method: "POST", headers: { authorization }, body: "{}" });
      expect(res.status).toBe(401);
      await expectDocumented("POST", "/identify", res);
    }
  });

  // The failures below are provoked the way test/http/faults.test.ts does it, through the
  // bindings, so that each answer is the Worker's own, headers and all.
  it("429 when the token's budget is spent", async () => {
    const spent: RateLimit = { limit: async () => ({ success: false }) };
    const res = await callWith({ RATE_LIMITER: spent }, "/identify", {
      method: "POST",
      body: JSON.stringify({ email: `${unique("limited")}@example.com` }),
    });
    expect(res.status).toBe(429);
    await expectDocumented("POST", "/identify", res);
  });

  it("503 when storage fails", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(d1Sessions, "prepare").mockImplementation(() => {
      throw new Error("D1 is down");
    });
    const res = await postIdentify({ email: `${unique("down")}@example.com` });
    expect(res.status).toBe(503);
    await expectDocumented("POST", "/identify", res);
  });

  it("503 from every admin route and /lookup when storage fails, 413 from the body routes", async () => {
    const created = await postIdentify({ email: `${unique("down-admin")}@example.com` });
    const { primaryContactId } = await created.json<{ primaryContactId: number }>();
    const big = JSON.stringify({ email: "a@b.co", padding: "x".repeat(MAX_BODY_BYTES) });
    for (const path of ["/lookup", "/erase"]) {
      const res = await callAsAdmin(path, { method: "POST", body: big });
      expect(res.status, path).toBe(413);
      await expectDocumented("POST", path, res);
    }
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(d1Sessions, "prepare").mockImplementation(() => {
      throw new Error("D1 is down");
    });
    const body = JSON.stringify({ email: `${unique("down")}@example.com` });
    for (const [method, path, res] of [
      ["POST", "/lookup", await callAsAdmin("/lookup", { method: "POST", body })],
      ["POST", "/erase", await callAsAdmin("/erase", { method: "POST", body })],
      ["GET", "/contacts/{id}", await callAsAdmin(`/contacts/${primaryContactId}`)],
      ["DELETE", "/contacts/{id}", await callAsAdmin(`/contacts/${primaryContactId}`, { method: "DELETE" })],
      ["GET", "/contacts/{id}/history", await callAsAdmin(`/contacts/${primaryContactId}/history`)],
    ] as const) {
      expect(res.status, `${method} ${path}`).toBe(503);
      await expectDocumented(method, path, res);
    }
    vi.restoreAllMocks();
    // Nothing was erased.
    expect((await callAsAdmin(`/contacts/${primaryContactId}`)).status).toBe(200);
  });

  it("500 for anything unexpected (here, a secret that throws when read)", async () => {
    const tokens = Object.getOwnPropertyDescriptor(env, "API_TOKENS");
    if (!tokens) throw new Error("the tests run without API_TOKENS");
    Object.defineProperty(env, "API_TOKENS", {
      configurable: true,
      get() {
        throw new Error("a bug outside the storage path");
      },
    });
    try {
      const res = await postIdentify({ email: `${unique("bug")}@example.com` });
      expect(res.status).toBe(500);
      await expectDocumented("POST", "/identify", res);
    } finally {
      Object.defineProperty(env, "API_TOKENS", tokens);
    }
  });
});

describe("the document's own examples", () => {
  const operations = () => Object.values(doc.paths).flatMap((item) => Object.values(item));

  it("validate against the schemas next to them", () => {
    const bodies = [
      ...operations().flatMap((op) => (op.requestBody ? [resolve(op.requestBody)] : [])),
      ...operations().flatMap((op) => Object.values(op.responses).map(resolve)),
      ...Object.values(doc.components.responses).map(resolve),
    ];
    let checked = 0;
    for (const body of bodies) {
      for (const media of Object.values(body.content ?? {})) {
        for (const [name, example] of Object.entries(media.examples ?? {})) {
          expectValid(media.schema ?? {}, resolve(example).value, `example ${name}`);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});

describe("the document covers", () => {
  it("every route, the bearer scheme, and every error status", () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/contacts/{id}",
      "/contacts/{id}/explain",
      "/contacts/{id}/graph",
      "/contacts/{id}/history",
      "/contacts/{id}/separations",
      "/contacts/{id}/unmerge",
      "/docs",
      "/erase",
      "/events",
      "/events/delivery",
      "/health",
      "/identify",
      "/lookup",
      "/openapi.json",
      "/separations/{id}",
    ]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    // The feed: feed or admin tokens, 403 for a caller's.
    expect(doc.paths["/events"]?.get?.security).toEqual([{ bearerAuth: ["feed"] }, { bearerAuth: ["admin"] }]);
    expect(Object.keys(doc.paths["/events"]?.get?.responses ?? {}).sort()).toEqual([
      "200",
      "400",
      "401",
      "403",
      "429",
      "500",
      "503",
    ]);
    // One schema per kind, told apart by `kind`.
    expect(doc.components.schemas.Event).toMatchObject({
      oneOf: expect.any(Array),
      discriminator: { propertyName: "kind", mapping: { merged: "#/components/schemas/MergedEvent" } },
    });
    const identify = doc.paths["/identify"]?.post;
    expect(Object.keys(identify?.responses ?? {}).sort()).toEqual([
      "200",
      "400",
      "401",
      "413",
      "422",
      "429",
      "500",
      "503",
    ]);
    for (const path of ["/health", "/openapi.json", "/docs"]) {
      expect(doc.paths[path]?.get?.security, path).toEqual([]);
    }
    // The admin operations: the admin scheme, and 403 besides the errors of any authenticated call.
    const admin = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => JSON.stringify(op.security) === JSON.stringify([{ bearerAuth: ["admin"] }]))
        .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, ...op })),
    );
    expect(admin.map((op) => op.route).sort()).toEqual([
      "DELETE /contacts/{id}",
      "DELETE /separations/{id}",
      "GET /contacts/{id}",
      "GET /contacts/{id}/explain",
      "GET /contacts/{id}/graph",
      "GET /contacts/{id}/history",
      "GET /contacts/{id}/separations",
      "GET /events/delivery",
      "POST /contacts/{id}/unmerge",
      "POST /erase",
    ]);
    // Every admin operation that names something stored can find nothing (404).
    for (const op of admin.filter((op) => op.route !== "GET /events/delivery"))
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["401", "403", "404"]));
  });
});

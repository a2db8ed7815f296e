import { buildOpenApiDocument } from "../openapi/document";

// Built on first use, not at start-up, and kept for the isolate's life: the schemas it
// derives from are fixed at deploy time.
let body: string | undefined;

/** `GET /openapi.json`: the OpenAPI 3.1 document, generated from the valibot schemas. */
export function openApi(): Response {
  body ??= JSON.stringify(buildOpenApiDocument());
  return new Response(body, {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300" },
  });
}

import { compileErrors, validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/openapi/document";

// A real OpenAPI validator (the official 3.1 schema plus semantic rules: unique
// operationIds, resolvable $refs, well-formed security schemes). It compiles JSON Schemas
// with `new Function`, which workerd forbids, so it runs here in Node on the same builder
// the Worker serves /openapi.json from.
describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    // validate() dereferences in place: give it its own copy.
    const result = await validate(structuredClone(buildOpenApiDocument()));
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
    expect(result.specification).toBe("OpenAPI");
  });
});

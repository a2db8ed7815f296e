import { expect, it } from "vitest";
import { call, countRows, postIdentify } from "../helpers";

type Examples = Record<string, { value: unknown }>;
type Media = { content: { "application/json": { examples: Examples } } };
type Document = {
  paths: { "/identify": { post: { requestBody: Media; responses: { "200": Media } } } };
  components: { responses: { BadRequest: Media } };
};

// Its own file, because storage is isolated per test file: the walk-through examples of
// /openapi.json start from an empty table, so the contact ids are the ones shown.
it("every request example gets the documented answer of the same name, in order", async () => {
  expect(await countRows()).toBe(0);
  const doc = await (await call("/openapi.json")).json<Document>();
  const requests = doc.paths["/identify"].post.requestBody.content["application/json"].examples;
  const answers: Record<number, Examples> = {
    200: doc.paths["/identify"].post.responses["200"].content["application/json"].examples,
    400: doc.components.responses.BadRequest.content["application/json"].examples,
  };
  expect(Object.keys(requests).length).toBeGreaterThan(1);
  for (const [name, request] of Object.entries(requests)) {
    const res = await postIdentify(request.value);
    const expected = answers[res.status]?.[name];
    expect(expected, `${name}: no ${res.status} example of this name`).toBeDefined();
    expect(await res.json(), name).toEqual(expected?.value);
  }
  // Every success example was reached.
  expect(Object.keys(answers[200] ?? {}).every((name) => name in requests)).toBe(true);
});

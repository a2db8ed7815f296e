import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeHistoryFile } from "../../bench/history";
import { runImport } from "../../bench/import";
import { type DevServer, startDevServer } from "../browser/wrangler-dev";
import { readStore, storeFactory } from "./import-store";

// `npm run import -- --url --token` into a database in use: a real `wrangler dev` of the
// Worker. Its clusters (which identifiers are together) must be those the offline import
// of the same file builds, since no record here reaches a cluster limit; sent twice, the
// file changes nothing.

const TOKEN = "import-url-test-token-3b9d";
let server: DevServer | undefined;
let scratch: Awaited<ReturnType<typeof storeFactory>>;

beforeAll(async () => {
  scratch = await storeFactory();
  server = await startDevServer({ API_TOKENS: TOKEN });
});

afterAll(async () => {
  await server?.stop();
  await rm(scratch.dir, { recursive: true, force: true });
});

/** The clusters of a store: each the sorted values of its contacts, sorted. */
function clusters(store: string): Promise<string[][]> {
  return readStore(store, (db) => {
    const rows = db.prepare("SELECT id, email, phoneNumber, linkedId FROM contacts").all() as {
      id: number;
      email: string | null;
      phoneNumber: string | null;
      linkedId: number | null;
    }[];
    const byRoot = new Map<number, Set<string>>();
    for (const row of rows) {
      const values = byRoot.get(row.linkedId ?? row.id) ?? new Set<string>();
      if (row.email !== null) values.add(`email ${row.email}`);
      if (row.phoneNumber !== null) values.add(`phone ${row.phoneNumber}`);
      byRoot.set(row.linkedId ?? row.id, values);
    }
    return [...byRoot.values()]
      .map((values) => [...values].sort())
      .sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
  });
}

const count = (store: string) =>
  readStore(store, (db) => (db.prepare("SELECT count(*) AS n FROM contacts").get() as { n: number }).n);

describe("npm run import -- --url --token", () => {
  it("sends the records through the running service's /identify: the clusters of the offline import", async () => {
    if (!server) throw new Error("wrangler dev did not start");
    const input = path.join(scratch.dir, "in-use.csv");
    // Few customers for the records: many links, and merges of customers through shared values.
    await writeHistoryFile(input, { records: 400, customers: 90, seed: 5 });

    const sent = await runImport([input, "--url", server.url, "--token", TOKEN, "--concurrency", "4"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`sent through ${server.url}`);
    expect(sent.stdout).toMatch(/records read\s+400/);

    const offline = await scratch.store("offline");
    const imported = await runImport([input, "--persist-to", offline]);
    expect(imported.code, imported.stderr).toBe(0);
    const expected = await clusters(offline);
    expect(expected.some((cluster) => cluster.length > 2)).toBe(true);
    expect(await clusters(server.store)).toEqual(expected);
    // Refused records are the same too.
    expect(sent.stdout.match(/rejected records\s+(\d+)/)?.[1]).toBe(
      imported.stdout.match(/rejected records\s+(\d+)/)?.[1],
    );

    // The same file again changes nothing.
    const contacts = await count(server.store);
    const again = await runImport([input, "--url", server.url, "--token", TOKEN]);
    expect(again.code, again.stderr).toBe(0);
    expect(await count(server.store)).toBe(contacts);
    expect(await clusters(server.store)).toEqual(expected);
  });

  it("stops with a clear error when the service refuses the token, sending nothing more", async () => {
    if (!server) throw new Error("wrangler dev did not start");
    const input = path.join(scratch.dir, "refused.csv");
    await writeHistoryFile(input, { records: 20, seed: 6 });
    const run = await runImport([input, "--url", server.url, "--token", "not-a-token"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/import: \/identify answered 401/);
  });
});

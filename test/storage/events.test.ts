import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { readEventsAfter } from "../../src/db/events";
import { identify, unique } from "../helpers";

const db = database(env.DB);

async function newestEventId(): Promise<number> {
  const row = await env.DB.prepare("SELECT coalesce(max(id), 0) AS id FROM contact_events").first<{ id: number }>();
  return row?.id ?? 0;
}

describe("readEventsAfter", () => {
  it("reads the events after an id, oldest first, at most limit, as stored", async () => {
    const before = await newestEventId();
    const tag = unique("ev");
    const first = await identify({ email: `${tag}a@ev.io`, phoneNumber: "+4470001" });
    await identify({ email: `${tag}b@ev.io`, phoneNumber: "+4470001" });
    await identify({ email: `${tag}c@ev.io` });

    const all = await readEventsAfter(db, before, 1000);
    expect(all.map((event) => [event.kind, event.primaryContactId])).toEqual([
      ["created", first.primaryContactId],
      ["linked", first.primaryContactId],
      ["created", expect.any(Number)],
    ]);
    expect(all.map((event) => event.id)).toEqual([before + 1, before + 2, before + 3]);
    const stored = await env.DB.prepare("SELECT * FROM contact_events WHERE id > ? ORDER BY id").bind(before).all();
    expect(all).toEqual(stored.results);

    expect(await readEventsAfter(db, before, 2)).toEqual(all.slice(0, 2));
    expect(await readEventsAfter(db, before + 2, 2)).toEqual(all.slice(2));
    expect(await readEventsAfter(db, before + 3, 10)).toEqual([]);
  });

  it("seeks on the rowid: one search of the primary key, no scan, no sort, wherever the page starts", async () => {
    // The statement readEventsAfter sends, as drizzle writes it.
    const statements: string[] = [];
    const recording = database({
      prepare: (sql: string) => {
        statements.push(sql);
        return env.DB.prepare(sql);
      },
    } as unknown as D1Database);
    await readEventsAfter(recording, 0, 5);
    const [sql] = statements;
    expect(sql).toBeDefined();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql ?? ""}`)
      .bind(123_456, 5)
      .all<{ detail: string }>();
    const details = plan.results.map((step) => step.detail);
    expect(details).toEqual([expect.stringMatching(/^SEARCH contact_events USING INTEGER PRIMARY KEY \(rowid>\?\)$/)]);
  });
});

import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../bench/random";
import { parseBlockList } from "../../src/domain/blocking";
import { parseClusterLimits } from "../../src/domain/limits";
import { type OrderedRecord, planImport } from "../../tools/import/plan";
import { importChunks } from "../../tools/import/statements";
import { parseCreatedAt } from "../../tools/import/timestamps";
import { screenRecord } from "../../tools/import/validate";
import { postIdentify } from "../helpers";

// The import into an empty database must leave exactly what sending its records to
// /identify one at a time, in the same order, leaves: env.DB gets the replay through the
// Worker, env.IMPORT_TEST_DB the import's planned statements.

type FileRow = { line: number; email?: string; phoneNumber?: string | number; createdAt: string };

/**
 * A file of history: emails and phones drawn from small pools (so that records link and
 * merge, often through both values), written as people type them (case, spaces,
 * separators, phones as numbers); placeholder values the blocking rules drop; invalid and
 * empty records; and one phone shared by more emails than a cluster may hold, then merged
 * with others (over the limits). Times on the hour, so that many tie, in shuffled file order.
 */
function historyFile(seed: number, records: number): FileRow[] {
  const next = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const email = (i: number) => pick([`user${i}@shop.example`, ` User${i}@Shop.Example `, `USER${i}@SHOP.EXAMPLE`]);
  const phone = (i: number) =>
    pick([`+44207946${String(1000 + i)}`, `+44 20 7946 ${1000 + i}`, `(020) 7946-${1000 + i}`]);
  const rows: Omit<FileRow, "line">[] = [];
  const hour = (h: number) => new Date(Date.UTC(2021, 0, 1) + h * 3_600_000).toISOString();
  for (let i = 0; i < records; i++) {
    const at = hour(Math.floor(next() * records * 0.6));
    const roll = next();
    const e = Math.floor(next() * 40);
    const p = Math.floor(next() * 40);
    if (roll < 0.4) rows.push({ email: email(e), phoneNumber: phone(p), createdAt: at });
    else if (roll < 0.6) rows.push({ email: email(e), createdAt: at });
    else if (roll < 0.75) rows.push({ phoneNumber: phone(p), createdAt: at });
    else if (roll < 0.8) rows.push({ phoneNumber: 442079462000 + p, createdAt: at });
    else if (roll < 0.85) rows.push({ email: "noreply@shop.example", phoneNumber: phone(p), createdAt: at });
    else if (roll < 0.88) rows.push({ email: email(e), phoneNumber: "0000000000", createdAt: at });
    else if (roll < 0.9) rows.push({ phoneNumber: "1111111", createdAt: at });
    else if (roll < 0.92) rows.push({ email: "not an address", phoneNumber: phone(p), createdAt: at });
    else if (roll < 0.93) rows.push({ email: "  ", createdAt: at });
    else
      rows.push({
        email: `solo${i}@shop.example`,
        phoneNumber: `+3361234${String(i).padStart(4, "0")}`,
        createdAt: at,
      });
  }
  // One phone that more emails share than MAX_EMAILS_PER_CLUSTER allows, then merges into pool clusters.
  for (let i = 0; i < 56; i++)
    rows.push({ email: `crowd${i}@shop.example`, phoneNumber: "+4915112345678", createdAt: hour(5 + i) });
  for (let i = 0; i < 6; i++) {
    rows.push({ email: `crowd${i}@shop.example`, phoneNumber: phone(i), createdAt: hour(200 + i * 30) });
    rows.push({ email: email(i + 10), phoneNumber: "+4915112345678", createdAt: hour(210 + i * 30) });
  }
  // File order is not time order.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [rows[i], rows[j]] = [rows[j] as Omit<FileRow, "line">, rows[i] as Omit<FileRow, "line">];
  }
  return rows.map((row, i) => ({ ...row, line: i + 2 }));
}

/** The import's order: createdAt, then file order (a stable sort). */
function applyOrder(rows: FileRow[]): FileRow[] {
  const at = (row: FileRow) => parseCreatedAt(row.createdAt) ?? "";
  return [...rows].sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
}

/** Every column but those that legitimately differ: when (the import's come from the file) and which request. */
const COMPARED = {
  contacts: "SELECT id, email, phoneNumber, linkedId, linkPrecedence, deletedAt FROM contacts ORDER BY id",
  contact_bridges:
    "SELECT id, kind, emailContactId, phoneContactId, requestId IS NULL AS legacyRequest FROM contact_bridges ORDER BY id",
  contact_events:
    "SELECT id, kind, primaryContactId, contactIds, previousPrimaryContactId, bridgeId FROM contact_events ORDER BY id",
  contact_event_contacts: "SELECT contactId, eventId FROM contact_event_contacts ORDER BY contactId, eventId",
  contact_separations: "SELECT * FROM contact_separations ORDER BY id",
  // AUTOINCREMENT counters: the next ids either database would give.
  sqlite_sequence:
    "SELECT name, seq FROM sqlite_sequence WHERE name IN ('contacts', 'contact_bridges', 'contact_events', 'contact_separations') ORDER BY name",
} as const;

async function tables(db: D1Database): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(COMPARED)) out[name] = (await db.prepare(sql).all()).results;
  return out;
}

describe("an import into an empty database", () => {
  const file = historyFile(19, 420);
  const ordered = applyOrder(file);
  const blockList = parseBlockList(env.BLOCKED_IDENTIFIERS);
  const limits = parseClusterLimits(env.MAX_EMAILS_PER_CLUSTER, env.MAX_PHONES_PER_CLUSTER);
  const statuses = new Map<number, { status: number; code?: string }>();
  let planned: ReturnType<typeof planImport>;

  beforeAll(async () => {
    // The replay: one /identify call at a time, in the import's order, as the file has the values.
    for (const row of ordered) {
      const response = await postIdentify({ email: row.email, phoneNumber: row.phoneNumber });
      const body = (await response.json()) as { error?: { code: string } };
      statuses.set(row.line, { status: response.status, code: body.error?.code });
    }
    // The import: screened by the import's validation, planned offline, its chunks run as D1 batches.
    await applyD1Migrations(env.IMPORT_TEST_DB, env.TEST_MIGRATIONS);
    const accepted: OrderedRecord[] = [];
    for (const row of ordered) {
      const screened = screenRecord({ email: row.email, phoneNumber: row.phoneNumber }, blockList);
      if (!screened.ok) continue;
      const at = Date.parse(parseCreatedAt(row.createdAt) ?? "");
      accepted.push({ line: row.line, who: screened.who, ignored: screened.ignored, at });
    }
    planned = planImport(accepted, limits);
    const ledger = {
      id: "equivalence",
      source: "history.csv",
      records: file.length,
      startedAt: new Date().toISOString(),
    };
    // Small chunks, so that the load crosses chunk boundaries in every table.
    const requestId = (line: number) => `import-${line}`;
    for (const chunk of importChunks(planned, ledger, requestId, { rowsPerChunk: 97 })) {
      await env.IMPORT_TEST_DB.batch(chunk.statements.map((sql) => env.IMPORT_TEST_DB.prepare(sql)));
    }
  }, 120_000);

  it("refuses the records /identify refuses, with the same error code", () => {
    let refused = 0;
    for (const row of file) {
      const screened = screenRecord({ email: row.email, phoneNumber: row.phoneNumber }, blockList);
      const answered = statuses.get(row.line);
      if (screened.ok) expect(answered, `line ${row.line}`).toEqual({ status: 200, code: undefined });
      else {
        refused += 1;
        expect(answered?.code, `line ${row.line}`).toBe(screened.code);
        expect([400, 422]).toContain(answered?.status);
      }
    }
    expect(refused).toBeGreaterThan(10);
  });

  it("leaves every table as the one-at-a-time replay does, but for times and request ids", async () => {
    const replayed = await tables(env.DB);
    const imported = await tables(env.IMPORT_TEST_DB);
    // The file exercised what the import must reproduce: merges, bridges, refusals by the limits.
    expect(replayed.contacts?.length).toBeGreaterThan(150);
    expect((replayed.contact_bridges ?? []).length).toBeGreaterThan(3);
    expect(planned.counts.merges).toBeGreaterThan(5);
    expect(planned.counts.overLimitIdentifiers).toBeGreaterThan(3);
    expect(planned.counts.blockedIdentifiers).toBeGreaterThan(5);
    for (const name of Object.keys(COMPARED)) expect(imported[name], name).toEqual(replayed[name]);
  });

  it("stamps each contact, bridge and event with the time of the record that made it", async () => {
    const contacts = await env.IMPORT_TEST_DB.prepare("SELECT id, createdAt FROM contacts ORDER BY id").all<{
      id: number;
      createdAt: string;
    }>();
    // Ids follow apply order, so creation times never go back.
    const times = contacts.results.map((row) => row.createdAt);
    expect(times).toEqual([...times].sort());
    const events = await env.IMPORT_TEST_DB.prepare(
      "SELECT e.at, c.createdAt FROM contact_events e JOIN contacts c ON c.id = json_extract(e.contactIds, '$[0]') WHERE e.kind IN ('created', 'linked')",
    ).all<{ at: string; createdAt: string }>();
    expect(events.results.length).toBe(contacts.results.length);
    for (const event of events.results) expect(event.at).toBe(event.createdAt);
    // Every contact's time is one of the file's, and the first is the file's earliest.
    const fileTimes = new Set(file.map((row) => parseCreatedAt(row.createdAt)));
    for (const time of times) expect(fileTimes.has(time)).toBe(true);
    expect(times[0]).toBe(parseCreatedAt(ordered[0]?.createdAt ?? ""));
    const ledger = await env.IMPORT_TEST_DB.prepare("SELECT chunksDone, chunksTotal, finishedAt FROM imports").first<{
      chunksDone: number;
      chunksTotal: number;
      finishedAt: string | null;
    }>();
    expect(ledger?.chunksDone).toBe(ledger?.chunksTotal);
    expect(ledger?.finishedAt).not.toBeNull();
  });
});

import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { INVARIANT_VIOLATIONS_SQL } from "../../src/db/invariants";

const db = env.MIGRATION_TEST_DB;

it("the migrations apply to a database that already holds data, and keep every row", async () => {
  const [first, ...later] = env.TEST_MIGRATIONS;
  if (!first || later.length === 0) throw new Error("expected several migrations");
  await applyD1Migrations(db, [first]);

  // Data as the first schema stored it: a cluster linked by a shared email, a merge of two
  // customers by a request that stored no row (george and biff), and a soft-deleted row.
  await db.batch(
    [
      [1, "a@live.test", "100", null, "primary", "2024-01-01T00:00:00.000Z", null],
      [2, "a@live.test", "200", 1, "secondary", "2024-01-02T00:00:00.000Z", null],
      [3, "george@hillvalley.edu", "919191", null, "primary", "2024-01-03T00:00:00.000Z", null],
      [4, "biffsucks@hillvalley.edu", "717171", 3, "secondary", "2024-01-04T00:00:00.000Z", null],
      [5, "gone@live.test", null, null, "primary", "2024-01-05T00:00:00.000Z", "2024-02-01T00:00:00.000Z"],
    ].map((row) =>
      db
        .prepare(
          "INSERT INTO contacts (id, email, phoneNumber, linkedId, linkPrecedence, createdAt, updatedAt, deletedAt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
        )
        .bind(...row),
    ),
  );
  const before = await db.prepare("SELECT * FROM contacts ORDER BY id").all();

  await applyD1Migrations(db, env.TEST_MIGRATIONS);

  const applied = await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>();
  expect(applied.results.map((row) => row.name)).toEqual(env.TEST_MIGRATIONS.map((migration) => migration.name));
  expect((await db.prepare("SELECT * FROM contacts ORDER BY id").all()).results).toEqual(before.results);
  // Every live member of an existing cluster is tied to its oldest contact by a legacy bridge.
  const bridges = await db
    .prepare("SELECT kind, emailContactId, phoneContactId FROM contact_bridges ORDER BY id")
    .all();
  expect(bridges.results).toEqual([
    { kind: "legacy", emailContactId: 1, phoneContactId: 2 },
    { kind: "legacy", emailContactId: 3, phoneContactId: 4 },
  ]);
  expect((await db.prepare(INVARIANT_VIOLATIONS_SQL).all()).results).toEqual([]);
  // The new tables start empty and take rows.
  expect(await db.prepare("SELECT count(*) AS n FROM contact_events").first("n")).toBe(0);
});

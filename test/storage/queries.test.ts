import { env } from "cloudflare:workers";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { commitPlans } from "../../src/db/commit";
import { ClusterChangedError, planStamp } from "../../src/db/guard";
import { readTouchedClusters } from "../../src/db/reads";
import { contactBridges, contactEventContacts, contactEvents, contacts } from "../../src/db/schema";
import { byAge } from "../../src/domain/contact";
import { planReconciliation } from "../../src/domain/reconcile";
import { expectInvariants, identify, insertRow, LIMITS, storedRows, unique } from "../helpers";

const db = database(env.DB);

describe("migrations", () => {
  it.each([contacts, contactBridges, contactEvents, contactEventContacts].map((table) => [getTableConfig(table)]))(
    "create exactly the table $name: columns and indexes as src/db/schema.ts declares",
    async (config) => {
      const { results: columns } = await env.DB.prepare(
        'SELECT name, type, "notnull" AS required, pk > 0 AS pk FROM pragma_table_info(?1) ORDER BY cid',
      )
        .bind(config.name)
        .all<{ name: string; type: string; required: number; pk: number }>();
      const compositeKey = config.primaryKeys.flatMap((key) => key.columns.map((column) => column.name));
      expect(columns).toEqual(
        config.columns.map((column) => ({
          name: column.name,
          type: column.getSQLType().toUpperCase(),
          required: column.notNull || column.primary ? 1 : 0,
          pk: column.primary || compositeKey.includes(column.name) ? 1 : 0,
        })),
      );

      const { results: indexes } = await env.DB.prepare(
        "SELECT il.name AS name, group_concat(ii.name) AS columns FROM pragma_index_list(?1) il, pragma_index_info(il.name) ii WHERE il.origin = 'c' GROUP BY il.name ORDER BY il.name",
      )
        .bind(config.name)
        .all<{ name: string; columns: string }>();
      expect(indexes).toEqual(
        config.indexes
          .map((index) => ({
            name: index.config.name,
            columns: index.config.columns.map((column) => ("name" in column ? column.name : "")).join(","),
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );

      const table = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE name = ?1")
        .bind(config.name)
        .first<{ sql: string }>();
      for (const check of config.checks) expect(table?.sql).toContain(check.name);
      for (const key of config.foreignKeys) {
        const reference = key.reference();
        expect(table?.sql).toContain(`REFERENCES \`${getTableConfig(reference.foreignTable).name}\`(\`id\`)`);
      }
    },
  );

  it("reject a row that breaks the primary/secondary shape", async () => {
    await expect(insertRow({ email: `${unique("bad")}@x.io`, linkPrecedence: "secondary" })).rejects.toThrow(
      /CHECK constraint/,
    );
    await expect(insertRow({ email: `${unique("bad")}@x.io`, linkPrecedence: "primary", linkedId: 1 })).rejects.toThrow(
      /CHECK constraint/,
    );
  });
});

describe("readTouchedClusters", () => {
  it("returns every live row of every cluster sharing the email or the phone, oldest first", async () => {
    const [a, b] = [`${unique("ra")}@x.io`, `${unique("rb")}@x.io`];
    const one = await identify({ email: a, phoneNumber: "7100001" });
    await identify({ email: `${unique("ra2")}@x.io`, phoneNumber: "7100001" });
    const two = await identify({ email: b, phoneNumber: "7100002" });
    await insertRow({
      email: a,
      phoneNumber: "7100003",
      linkPrecedence: "secondary",
      linkedId: one.primaryContactId,
      deletedAt: "2026-01-01T00:00:00.000Z",
    });

    const rows = await readTouchedClusters(db, { email: a, phoneNumber: "7100002" }, LIMITS);
    const expected = await storedRows(
      "deletedAt IS NULL AND (id IN (?1, ?2) OR linkedId IN (?1, ?2))",
      one.primaryContactId,
      two.primaryContactId,
    );
    expect(expected).toHaveLength(3);
    expect(rows.map((r) => r.id)).toEqual(expected.sort(byAge).map((r) => r.id));
    expect(rows.map((r) => r.phoneNumber)).not.toContain("7100003");
    expect(await readTouchedClusters(db, { email: `${unique("none")}@x.io` }, LIMITS)).toEqual([]);
  });
});

describe("commitPlans", () => {
  it("writes nothing and reports the conflict when what the plan relied on changed", async () => {
    const email = `${unique("stale")}@x.io`;
    const first = await identify({ email, phoneNumber: "7200001" });
    const who = { email: `${unique("new")}@x.io`, phoneNumber: "7200001" };
    const rows = await readTouchedClusters(db, who, LIMITS);
    const plan = planReconciliation(rows, who, LIMITS);
    expect(plan.outcome).toBe("linked");

    // Someone else stores the same new email between our read and our write.
    await identify({ email: who.email, phoneNumber: "7200001" });
    const before = await storedRows();
    await expect(
      commitPlans(db, [
        { who, stamp: planStamp(rows, who, plan.primaryId), plan, requestId: "test-request", limits: LIMITS },
      ]),
    ).rejects.toBeInstanceOf(ClusterChangedError);
    expect(await storedRows()).toEqual(before);

    // Re-read: there is nothing left to do.
    const fresh = await readTouchedClusters(db, who, LIMITS);
    expect(planReconciliation(fresh, who, LIMITS).outcome).toBe("unchanged");
    expect(fresh.map((r) => r.id)).toEqual([first.primaryContactId, expect.any(Number)]);
    await expectInvariants();
  });

  it("carries contacts added to an absorbed cluster meanwhile along with the merge", async () => {
    const [a, b] = [`${unique("keep")}@x.io`, `${unique("fold")}@x.io`];
    const older = await identify({ email: a, phoneNumber: "7200010" });
    const younger = await identify({ email: b, phoneNumber: "7200011" });
    const who = { email: a, phoneNumber: "7200011" };
    const rows = await readTouchedClusters(db, who, LIMITS);
    const plan = planReconciliation(rows, who, LIMITS);
    expect(plan).toMatchObject({
      outcome: "merged",
      primaryId: older.primaryContactId,
      absorb: [younger.primaryContactId],
      insert: null,
    });

    // The younger cluster grows after our read: not a conflict, the new row is folded too.
    const grown = await identify({ email: `${unique("late")}@x.io`, phoneNumber: "7200011" });
    const stamp = planStamp(rows, who, plan.primaryId);
    const [committed] = await commitPlans(db, [{ who, stamp, plan, requestId: "test-request", limits: LIMITS }]);
    expect(committed?.rows.map((r) => r.id)).toEqual([
      older.primaryContactId,
      younger.primaryContactId,
      ...grown.secondaryContactIds,
    ]);
    for (const row of await storedRows("id IN (?, ?)", younger.primaryContactId, grown.secondaryContactIds[0])) {
      expect(row).toMatchObject({ linkPrecedence: "secondary", linkedId: older.primaryContactId });
    }
    await expectInvariants();
  });
});

/**
 * Local D1 stores for the import's Node tests: one migrated template copied per test (the
 * migrations run once, by wrangler, as a person would run them), and every table of a store
 * read back from its SQLite file (read-only, so that it can be read while an import runs).
 */
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { applyMigrations } from "../browser/wrangler-dev";

/** Every table the service and the import write, and SQLite's AUTOINCREMENT counters. */
export const TABLES = [
  "contacts",
  "contact_bridges",
  "contact_events",
  "contact_event_contacts",
  "contact_separations",
  "imports",
  "sqlite_sequence",
] as const;

export type Dump = Record<(typeof TABLES)[number], Record<string, unknown>[]>;

/** A scratch directory with a migrated, empty template store in it; `store()` copies the template. */
export async function storeFactory(): Promise<{
  dir: string;
  template: string;
  store: (name: string) => Promise<string>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), "import-test-"));
  const template = path.join(dir, "template");
  await applyMigrations(template);
  return {
    dir,
    template,
    store: async (name) => {
      const target = path.join(dir, name);
      await rm(target, { recursive: true, force: true });
      await cp(template, target, { recursive: true });
      return target;
    },
  };
}

/** The SQLite file of the DB binding's local database under `store` (a --persist-to directory). */
export async function databaseFile(store: string): Promise<string> {
  const dir = path.join(store, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = (await readdir(dir)).filter((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one database under ${dir}, found ${files.join(", ")}`);
  return path.join(dir, files[0] ?? "");
}

/** Runs `read` on the store's database opened read-only. */
export async function readStore<T>(store: string, read: (db: DatabaseSync) => T): Promise<T> {
  const db = new DatabaseSync(await databaseFile(store), { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Every row of every table, in rowid order. */
export function dump(store: string): Promise<Dump> {
  return readStore(store, (db) => {
    const tables = {} as Dump;
    for (const table of TABLES) {
      // wrangler's own d1_migrations counter is not the service's.
      const sql =
        table === "sqlite_sequence"
          ? "SELECT * FROM sqlite_sequence WHERE name <> 'd1_migrations' ORDER BY name"
          : `SELECT * FROM ${table} ORDER BY rowid`;
      tables[table] = db.prepare(sql).all() as Record<string, unknown>[];
    }
    return tables;
  });
}

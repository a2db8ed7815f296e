/**
 * The two parts of wrangler.toml an import needs (the top-level `vars` and the D1 binding
 * named DB), read with a TOML parser rather than wrangler's own config reader: loading
 * wrangler costs the import's process about 200 MiB of memory, and a million records must
 * fit in 1 GiB with the workerd that writes them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "smol-toml";

const CONFIG = path.resolve(import.meta.dirname, "../..", "wrangler.toml");

/** What the import reads of wrangler.toml. */
export type WranglerToml = {
  /** The top-level `vars` (what `npm run dev` and a deploy without `--env` run with). */
  vars: Record<string, unknown>;
  /** The `[[d1_databases]]` entry with binding DB, if any. */
  database: { binding: string; database_id?: string; preview_database_id?: string } | undefined;
};

const table = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** Reads wrangler.toml beside package.json. */
export function readWranglerToml(): WranglerToml {
  const config = parse(readFileSync(CONFIG, "utf8")) as Record<string, unknown>;
  const databases = Array.isArray(config.d1_databases) ? config.d1_databases.map(table) : [];
  const db = databases.find((entry) => entry.binding === "DB");
  return {
    vars: table(config.vars),
    database: db && {
      binding: "DB",
      database_id: text(db.database_id),
      preview_database_id: text(db.preview_database_id),
    },
  };
}

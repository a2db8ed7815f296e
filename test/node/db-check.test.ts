import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// `npm run db:check` against a local D1 of its own (--persist-to), through wrangler as
// an operator runs it.
const state = mkdtempSync(path.join(tmpdir(), "db-check-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

const environment = { ...process.env, WRANGLER_SEND_METRICS: "false" };

function wrangler(...args: string[]): void {
  const result = spawnSync("npx", ["wrangler", "d1", ...args, "--local", "--persist-to", state], {
    encoding: "utf8",
    env: environment,
  });
  expect(result.status, result.stderr).toBe(0);
}

function dbCheck(): { status: number | null; output: string } {
  const result = spawnSync("npx", ["tsx", "scripts/db-check.ts", "--persist-to", state], {
    encoding: "utf8",
    env: environment,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe("npm run db:check", () => {
  it("lists a cluster over the limits as a warning (exit 0), and exits 1 on an invariant violation", () => {
    wrangler("migrations", "apply", "DB");
    // 60 emails in one cluster: over the 50 that wrangler.toml allows, sound otherwise.
    wrangler(
      "execute",
      "DB",
      "--command",
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
       INSERT INTO contacts (id, email, phoneNumber, linkPrecedence, linkedId)
       SELECT i, 'legacy' || i || '@x.io', '5550100', CASE WHEN i = 1 THEN 'primary' ELSE 'secondary' END,
              CASE WHEN i = 1 THEN NULL ELSE 1 END FROM n`,
    );
    const warned = dbCheck();
    expect(warned.status, warned.output).toBe(0);
    expect(warned.output).toContain("warning: 1 cluster(s) over the cluster limits (50 emails, 50 phones)");
    expect(warned.output).toContain("every invariant holds");

    // A second primary holding one of its emails: two clusters share an email.
    wrangler(
      "execute",
      "DB",
      "--command",
      "INSERT INTO contacts (id, email, linkPrecedence) VALUES (100, 'legacy7@x.io', 'primary')",
    );
    const failed = dbCheck();
    expect(failed.status, failed.output).toBe(1);
    expect(failed.output).toContain("email_in_several_clusters");
    expect(failed.output).toContain("over the cluster limits");

    // A separation between two contacts of one cluster (invariant 6).
    wrangler(
      "execute",
      "DB",
      "--command",
      "INSERT INTO contact_separations (lowContactId, highContactId, requestId) VALUES (1, 2, 'test')",
    );
    const separated = dbCheck();
    expect(separated.status, separated.output).toBe(1);
    expect(separated.output).toContain("separated_contacts_in_one_cluster");
  });
});

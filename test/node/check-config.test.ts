import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// scripts/check-config.ts (a step of `npm run check`) run on copies of the project's
// wrangler.toml that differ only in WEBHOOK_URL, with WEBHOOK_SECRET in its environment or not.
const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "check-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
// tsx's own entry point, run by the Node that runs the tests (as `npm run check` runs it).
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const SECRET = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;

function checkConfig(webhookUrl: string, secret?: string): { status: number | null; output: string } {
  const file = path.join(dir, `wrangler-${Math.random().toString(36).slice(2)}.toml`);
  const changed = toml.replace(/^WEBHOOK_URL = ".*"$/m, `WEBHOOK_URL = ${JSON.stringify(webhookUrl)}`);
  expect(changed).toContain(`WEBHOOK_URL = ${JSON.stringify(webhookUrl)}`);
  writeFileSync(file, changed);
  const { WEBHOOK_SECRET: _, ...environment } = process.env;
  const result = spawnSync(process.execPath, [TSX, "scripts/check-config.ts", "--config", file], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      ...environment,
      WRANGLER_SEND_METRICS: "false",
      ...(secret === undefined ? {} : { WEBHOOK_SECRET: secret }),
    },
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe("npm run check: WEBHOOK_URL and WEBHOOK_SECRET", () => {
  it("passes with no URL, and with an https URL and a well-formed secret", () => {
    expect(checkConfig("").status).toBe(0);
    const ok = checkConfig("https://hooks.example.com/identity", SECRET);
    expect(ok.status, ok.output).toBe(0);
  });

  it("refuses a malformed URL", () => {
    const result = checkConfig("http://hooks.example.com/identity", SECRET);
    expect(result.status).toBe(1);
    expect(result.output).toContain("WEBHOOK_URL must be https://");
  });

  it("refuses a URL without a secret, or with a malformed one, and never prints the secret", () => {
    const missing = checkConfig("https://hooks.example.com/identity");
    expect(missing.status).toBe(1);
    expect(missing.output).toContain("WEBHOOK_SECRET is not");
    const short = `whsec_${Buffer.alloc(8, 5).toString("base64")}`;
    const bad = checkConfig("https://hooks.example.com/identity", short);
    expect(bad.status).toBe(1);
    expect(bad.output).toContain("24 to 64 bytes");
    expect(bad.output).not.toContain(short);
  });
});

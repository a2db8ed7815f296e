import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// scripts/check-config.ts (a step of `npm run check`) run on copies of the project's
// wrangler.toml that differ only in WEBHOOK_URL, with secrets in its environment or not.
const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "check-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
// tsx's own entry point, run by the Node that runs the tests (as `npm run check` runs it).
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const SECRET = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;

/** Runs check-config over `text` as wrangler.toml, with `secrets` (and no other secret) in its environment. */
function runCheck(text: string, secrets: Record<string, string>): { status: number | null; output: string } {
  const file = path.join(dir, `wrangler-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(file, text);
  const environment: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["WEBHOOK_URL", "WEBHOOK_SECRET", "API_TOKENS", "ADMIN_TOKENS", "FEED_TOKENS"])
    delete environment[name];
  const result = spawnSync(process.execPath, [TSX, "scripts/check-config.ts", "--config", file], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...environment, WRANGLER_SEND_METRICS: "false", ...secrets },
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

function checkConfig(webhookUrl: string, secret?: string): { status: number | null; output: string } {
  const changed = toml.replace(/^WEBHOOK_URL = ".*"$/m, `WEBHOOK_URL = ${JSON.stringify(webhookUrl)}`);
  expect(changed).toContain(`WEBHOOK_URL = ${JSON.stringify(webhookUrl)}`);
  return runCheck(changed, secret === undefined ? {} : { WEBHOOK_SECRET: secret });
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

describe("npm run check: the token lists", () => {
  it("accepts distinct token lists", () => {
    const ok = runCheck(toml, { API_TOKENS: "caller-1,caller-2", ADMIN_TOKENS: "admin-1" });
    expect(ok.status, ok.output).toBe(0);
  });

  it("refuses a token that API_TOKENS and ADMIN_TOKENS share, without printing it", () => {
    const shared = runCheck(toml, { API_TOKENS: "caller-1,rotating-9f2c", ADMIN_TOKENS: "rotating-9f2c" });
    expect(shared.status, shared.output).toBe(1);
    expect(shared.output).toContain("one token is in API_TOKENS (entry 2) and ADMIN_TOKENS (entry 1)");
    expect(shared.output).not.toContain("rotating-9f2c");
  });

  it("refuses a token that FEED_TOKENS shares with another list", () => {
    const shared = runCheck(toml, { API_TOKENS: "caller-1", FEED_TOKENS: "feed-1,caller-1" });
    expect(shared.status, shared.output).toBe(1);
    expect(shared.output).toContain("one token is in API_TOKENS (entry 1) and FEED_TOKENS (entry 2)");
    expect(runCheck(toml, { API_TOKENS: "caller-1", FEED_TOKENS: "feed-1" }).status).toBe(0);
  });
});

describe("npm run check: BLOCKED_IDENTIFIERS", () => {
  it("refuses a pattern with nested quantifiers, and accepts a plain one", () => {
    const withPatterns = (patterns: string[]) =>
      toml.replace(
        /^BLOCKED_IDENTIFIERS = ".*"$/m,
        `BLOCKED_IDENTIFIERS = ${JSON.stringify(JSON.stringify({ email: { patterns } }))}`,
      );
    expect(withPatterns([])).not.toBe(toml);
    const refused = runCheck(withPatterns(["^([a-z0-9]+\\.?)+@x\\.com$"]), {});
    expect(refused.status, refused.output).toBe(1);
    expect(refused.output).toContain("BLOCKED_IDENTIFIERS: email.patterns[0] nests a quantifier");
    const plain = runCheck(withPatterns(["^qa\\+.*@shop\\.example$"]), {});
    expect(plain.status, plain.output).toBe(0);
  });
});

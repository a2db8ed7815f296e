import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

export default defineConfig(async () => {
  // The same SQL files `wrangler d1 migrations apply` runs; test/setup.ts applies them.
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  // Tokens the tests present (test/tokens.ts); `rateLimit` is spent only by the test
  // that exhausts the rate limit, so that no other test is limited.
  const tokens = {
    default: "test-token-default-4f7c1d",
    rotated: "test-token-rotated-9a2e8b",
    rateLimit: "test-token-rate-limit-51c0aa",
    admin: "test-admin-token-c83f02",
    adminRotated: "test-admin-token-rotated-6e14d9",
    feed: "test-feed-token-2b7e90",
  };
  // The rate limit as wrangler.toml sets it, so that the test tripping it follows the config.
  const rateLimit = unstable_readConfig({ config: "./wrangler.toml" }).ratelimits.find(
    (binding: { name: string }) => binding.name === "RATE_LIMITER",
  )?.simple;
  return {
    test: {
      // The Worker's one log line per request would drown the report; tests that
      // check those lines spy on console.log, which still sees them.
      onConsoleLog: (log: string) => !log.startsWith('{"requestId"'),
      projects: [
        {
          // Everything about the service runs inside workerd, on real local D1 and Durable Objects.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                // Empty databases of their own: for the test that migrates live data step by step,
                // and for the import that test/storage/import-equivalence.test.ts compares with /identify.
                d1Databases: ["MIGRATION_TEST_DB", "IMPORT_TEST_DB"],
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  TEST_RATE_LIMIT: rateLimit ?? null,
                  TEST_TOKENS: tokens,
                  // Secrets are not in wrangler.toml; these stand in for `wrangler secret put`.
                  // Spaces around entries are allowed, and ignored.
                  API_TOKENS: `${tokens.default}, ${tokens.rotated} ,${tokens.rateLimit}`,
                  ADMIN_TOKENS: `${tokens.admin},${tokens.adminRotated}`,
                  FEED_TOKENS: tokens.feed,
                  LOG_HASH_KEY: "test-log-hash-key-7d1f",
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/node/**", "test/browser/**"],
            setupFiles: ["./test/setup.ts"],
          },
        },
        {
          // Tools that drive the service from outside (benchmark, OpenAPI lint): plain Node.
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
        {
          // The docs page in headless Chromium: needs Debian's chromium, so it is not part of
          // `npm test` (only Node and npm) but its own command, `npm run test:browser`.
          test: {
            name: "browser",
            include: ["test/browser/**/*.test.ts"],
            environment: "node",
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});

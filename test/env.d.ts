import type { D1Migration } from "cloudflare:test";

// Bindings that exist only under test (see vitest.config.ts).
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** An empty D1 database that no migration has touched (test/storage/migrations.test.ts). */
      MIGRATION_TEST_DB: D1Database;
      /** An empty D1 database for an import (test/storage/import-equivalence.test.ts applies the migrations). */
      IMPORT_TEST_DB: D1Database;
      /** `simple` of the RATE_LIMITER binding in wrangler.toml (null if it is missing). */
      TEST_RATE_LIMIT: { limit: number; period: number } | null;
      /** The tokens of API_TOKENS, ADMIN_TOKENS and FEED_TOKENS, by the role tests give them (test/tokens.ts). */
      TEST_TOKENS: {
        default: string;
        rotated: string;
        rateLimit: string;
        admin: string;
        adminRotated: string;
        feed: string;
      };
      API_TOKENS: string;
      ADMIN_TOKENS: string;
      FEED_TOKENS: string;
      LOG_HASH_KEY: string;
    }
  }
}

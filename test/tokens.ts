import { env } from "cloudflare:workers";

// The secrets the tests run with, as vitest.config.ts binds them.

/** Sent by `call()` unless a test says otherwise. */
export const TEST_TOKEN = env.TEST_TOKENS.default;
/** A second valid token, as during a rotation. */
export const ROTATED_TOKEN = env.TEST_TOKENS.rotated;
/** Spent only by the test that exhausts the rate limit, so no other test is limited. */
export const RATE_LIMIT_TOKEN = env.TEST_TOKENS.rateLimit;
/** An operator's token (ADMIN_TOKENS): reaches every route. */
export const ADMIN_TOKEN = env.TEST_TOKENS.admin;
/** The second admin token, as during a rotation. */
export const ROTATED_ADMIN_TOKEN = env.TEST_TOKENS.adminRotated;
/** A change feed consumer's token (FEED_TOKENS): reaches GET /events only. */
export const FEED_TOKEN = env.TEST_TOKENS.feed;
/** The `LOG_HASH_KEY` secret under test. */
export const TEST_LOG_HASH_KEY = env.LOG_HASH_KEY;

// Secrets are set with `wrangler secret put` and do not appear in wrangler.toml, so
// `wrangler types` cannot see them. Optional, because a deployment may lack them:
// the code that reads them must fail closed (API_TOKENS) or degrade (LOG_HASH_KEY).
interface Env {
  /** Comma-separated bearer tokens of callers: /identify and /lookup. */
  API_TOKENS?: string;
  /** Comma-separated bearer tokens of change feed consumers: `GET /events` only. */
  FEED_TOKENS?: string;
  /** Comma-separated bearer tokens of operators: every route, erasure and history included. */
  ADMIN_TOKENS?: string;
  /** HMAC key of the `emailHash`/`phoneHash` fields of the request log. */
  LOG_HASH_KEY?: string;
  /** `whsec_` + base64 of 24 to 64 bytes: the key webhook deliveries to `WEBHOOK_URL` are signed with. */
  WEBHOOK_SECRET?: string;
  /**
   * Development and tests only: the first retry's backoff ceiling in ms (default 1000),
   * so that fault tests do not wait minutes. Production leaves it unset.
   */
  WEBHOOK_BACKOFF_BASE_MS?: string;
  /** Development and tests only: how often the dispatcher runs without a poke, in ms (default 60000). */
  WEBHOOK_SAFETY_NET_MS?: string;
}

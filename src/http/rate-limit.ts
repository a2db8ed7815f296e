import { RETRY_AFTER_HEADER } from "../contract/headers";
import { fail } from "../errors";
import { requestFacts } from "./request-facts";

// The binding accepts no other periods; it cannot report its own, hence RATE_LIMIT_PERIOD.
const PERIODS = ["10", "60"];

/**
 * Router hook: spends one unit of the authenticated token's budget in the
 * `RATE_LIMITER` binding (limit and period in wrangler.toml). Requests without a
 * token (public routes) are not counted. Fails open if the limiter itself errs:
 * the caller is already authenticated, and the limiter guards capacity, not data.
 * @throws HttpError 429 with `Retry-After` (the period: the longest wait until the budget refills).
 */
export async function rateLimit(request: Request, env: Env): Promise<undefined> {
  const facts = requestFacts(request);
  if (facts.caller === undefined) return undefined;

  let success: boolean;
  try {
    ({ success } = await env.RATE_LIMITER.limit({ key: `token:${facts.caller}` }));
  } catch {
    facts.detail = "rate_limiter_unavailable";
    return undefined;
  }
  if (success) return undefined;
  const period = PERIODS.includes(env.RATE_LIMIT_PERIOD) ? env.RATE_LIMIT_PERIOD : "60";
  throw fail("rate_limited", { headers: { [RETRY_AFTER_HEADER]: period } });
}

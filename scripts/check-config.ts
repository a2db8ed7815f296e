/**
 * `npm run check` step: validates the variables of wrangler.toml (top level and every
 * [env.*]) that the Worker cannot check for itself without failing requests: the merge
 * protection variables and RECONCILER_LOCATION_HINT, parsed the way the Worker parses them, and RATE_LIMIT_PERIOD,
 * which must repeat the RATE_LIMITER binding's period (the binding cannot report it).
 * WEBHOOK_URL is parsed as the dispatcher parses it; when it is set, the secret
 * WEBHOOK_SECRET (not in wrangler.toml: `wrangler secret put`) must be given in this
 * command's environment, and well-formed, or the check fails.
 * A malformed value fails here rather than after a deploy. Exits 1 naming what is wrong.
 * `--config <file>` checks another wrangler.toml than the project's.
 */
import { unstable_readConfig } from "wrangler";
import { parseBlockList } from "../src/domain/blocking";
import { parseClusterLimits } from "../src/domain/limits";
import { parseLocationHint } from "../src/durable/location-hint";
import { parseWebhookConfig } from "../src/webhooks/config";

type Vars = Record<string, unknown>;

const text = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));

type Config = ReturnType<typeof unstable_readConfig>;

function problems(where: string, config: Config): string[] {
  const vars = config.vars as Vars;
  const found: string[] = [];
  const attempt = (check: () => unknown) => {
    try {
      check();
    } catch (err) {
      found.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  attempt(() => parseBlockList(text(vars.BLOCKED_IDENTIFIERS)));
  attempt(() => parseClusterLimits(text(vars.MAX_EMAILS_PER_CLUSTER), text(vars.MAX_PHONES_PER_CLUSTER)));
  attempt(() => parseLocationHint(text(vars.RECONCILER_LOCATION_HINT)));
  attempt(() => parseWebhookConfig(text(vars.WEBHOOK_URL), process.env.WEBHOOK_SECRET));
  const period = text(vars.RATE_LIMIT_PERIOD);
  const limiter = config.ratelimits.find((binding: { name: string }) => binding.name === "RATE_LIMITER")?.simple;
  if (limiter && String(limiter.period) !== period) {
    found.push(`${where}: RATE_LIMIT_PERIOD is "${period}" but RATE_LIMITER's period is ${limiter.period}`);
  }
  return found;
}

const flag = process.argv.indexOf("--config");
const file = flag === -1 ? "./wrangler.toml" : (process.argv[flag + 1] ?? "./wrangler.toml");
const config = unstable_readConfig({ config: file });
const all = [
  ...problems("wrangler.toml [vars]", config),
  ...Object.keys(config.env ?? {}).flatMap((name) =>
    problems(`wrangler.toml [env.${name}.vars]`, unstable_readConfig({ config: file, env: name })),
  ),
];
if (all.length > 0) {
  for (const problem of all) console.error(`check-config: ${problem}`);
  process.exit(1);
}
console.log(
  "check-config: merge protection variables, RECONCILER_LOCATION_HINT, RATE_LIMIT_PERIOD and WEBHOOK_URL are valid.",
);

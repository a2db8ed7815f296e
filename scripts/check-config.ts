/**
 * `npm run check` step: validates the variables of wrangler.toml (top level and every
 * [env.*]) that the Worker cannot check for itself without failing requests: the merge
 * protection variables and RECONCILER_LOCATION_HINT, parsed the way the Worker parses them, and RATE_LIMIT_PERIOD,
 * which must repeat the RATE_LIMITER binding's period (the binding cannot report it).
 * It also refuses a token that two token lists share (API_TOKENS, ADMIN_TOKENS, FEED_TOKENS), and a
 * WEBHOOK_URL that is malformed or set without a well-formed WEBHOOK_SECRET (parsed as the
 * dispatcher parses them), in the values it can see: wrangler.toml, `.dev.vars`/`.env`, and this
 * process's environment (where an operator holds secrets before `wrangler secret put`);
 * deployed secrets cannot be read back.
 * A malformed value fails here rather than after a deploy. Exits 1 naming what is wrong.
 * `--config <file>` checks another wrangler.toml than the project's.
 */
import { unstable_getVarsForDev, unstable_readConfig } from "wrangler";
import { parseBlockList } from "../src/domain/blocking";
import { parseClusterLimits } from "../src/domain/limits";
import { parseLocationHint } from "../src/durable/location-hint";
import { sharedTokens, type TokenLists } from "../src/http/token-lists";
import { parseWebhookConfig } from "../src/webhooks/config";

type Vars = Record<string, unknown>;

const text = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));

type Config = ReturnType<typeof unstable_readConfig>;

const TOKEN_SECRETS = ["API_TOKENS", "ADMIN_TOKENS", "FEED_TOKENS"] as const;

/** A value as an environment would run with it: this process's environment's, else `.dev.vars`'s or wrangler.toml's. */
type Lookup = (name: string) => string | undefined;

function lookup(configPath: string, config: Config, env: string | undefined): Lookup {
  const local = unstable_getVarsForDev(configPath, undefined, config.vars, env, true);
  return (name) => {
    const binding = local[name];
    return process.env[name] ?? (typeof binding?.value === "string" ? binding.value : undefined);
  };
}

function problems(where: string, config: Config, value: Lookup): string[] {
  const lists: TokenLists = {};
  for (const name of TOKEN_SECRETS) lists[name] = value(name);
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
  attempt(() => parseWebhookConfig(value("WEBHOOK_URL"), value("WEBHOOK_SECRET")));
  for (const { lists: names, positions } of sharedTokens(lists)) {
    const places = names.map((name, i) => `${name} (entry ${positions[i]})`).join(" and ");
    found.push(`${where}: one token is in ${places}: a token belongs to one list only`);
  }
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
  ...problems("wrangler.toml [vars]", config, lookup(file, config, undefined)),
  ...Object.keys(config.env ?? {}).flatMap((name) => {
    const named = unstable_readConfig({ config: file, env: name });
    return problems(`wrangler.toml [env.${name}.vars]`, named, lookup(file, named, name));
  }),
];
if (all.length > 0) {
  for (const problem of all) console.error(`check-config: ${problem}`);
  process.exit(1);
}
console.log(
  "check-config: merge protection variables, RECONCILER_LOCATION_HINT, RATE_LIMIT_PERIOD, WEBHOOK_URL and the token lists are valid.",
);

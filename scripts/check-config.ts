/**
 * `npm run check` step: validates the merge protection variables of wrangler.toml
 * (top level and every [env.*]) the way the Worker parses them, so that a malformed
 * value fails here rather than as 500s after a deploy. Exits 1 naming what is wrong.
 */
import { unstable_readConfig } from "wrangler";
import { parseBlockList } from "../src/domain/blocking";
import { parseClusterLimits } from "../src/domain/limits";

type Vars = Record<string, unknown>;

const text = (value: unknown): string | undefined => (value === undefined ? undefined : String(value));

function problems(where: string, vars: Vars): string[] {
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
  return found;
}

const config = unstable_readConfig({ config: "./wrangler.toml" });
const all = [
  ...problems("wrangler.toml [vars]", config.vars as Vars),
  ...Object.keys(config.env ?? {}).flatMap((name) =>
    problems(
      `wrangler.toml [env.${name}.vars]`,
      unstable_readConfig({ config: "./wrangler.toml", env: name }).vars as Vars,
    ),
  ),
];
if (all.length > 0) {
  for (const problem of all) console.error(`check-config: ${problem}`);
  process.exit(1);
}
console.log("check-config: merge protection variables are valid.");

/**
 * `npm run db:check [-- --remote | --local] [-- --env NAME] [-- --persist-to DIR]`: runs
 * the invariant checker of src/db/invariants.ts against D1 through wrangler and lists
 * every violation, then lists the clusters over the cluster limits (as wrangler.toml
 * configures them) as warnings. Exits 0 when the invariants hold (warnings or not), 1 on
 * a violation, 2 when it could not check.
 */
import { execFileSync } from "node:child_process";
import { unstable_readConfig } from "wrangler";
import {
  INVARIANT_VIOLATIONS_SQL,
  type InvariantViolation,
  type OverLimitCluster,
  overLimitClustersSql,
} from "../src/db/invariants";
import { type ClusterLimits, parseClusterLimits } from "../src/domain/limits";

const args = process.argv.slice(2);
const where = args.includes("--remote") ? [] : args.includes("--local") ? [] : ["--local"];
const envName = args.includes("--env") ? args[args.indexOf("--env") + 1] : undefined;

function run<T>(sql: string): T[] {
  const command = ["wrangler", "d1", "execute", "DB", ...where, ...args, "--json", "--command", sql];
  let output: string;
  try {
    output = execFileSync("npx", command, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  } catch (err) {
    console.error(`db:check: wrangler failed: ${String(err)}`);
    process.exit(2);
  }
  return (JSON.parse(output) as { results: T[] }[]).flatMap((batch) => batch.results);
}

let limits: ClusterLimits;
try {
  const vars = unstable_readConfig({ config: "./wrangler.toml", env: envName }).vars as Record<string, unknown>;
  const text = (value: unknown) => (value === undefined ? undefined : String(value));
  limits = parseClusterLimits(text(vars.MAX_EMAILS_PER_CLUSTER), text(vars.MAX_PHONES_PER_CLUSTER));
} catch (err) {
  console.error(`db:check: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}

const violations = run<InvariantViolation>(INVARIANT_VIOLATIONS_SQL);
const overLimit = run<OverLimitCluster>(overLimitClustersSql(limits));
if (overLimit.length > 0) {
  console.warn(
    `db:check: warning: ${overLimit.length} cluster(s) over the cluster limits (${limits.emails} emails, ` +
      `${limits.phones} phones): answered as they are, never grown. Not a violation.`,
  );
  console.table(overLimit);
}
if (violations.length === 0) {
  console.log("db:check: every invariant holds.");
  process.exit(0);
}
console.error(`db:check: ${violations.length} violation(s):`);
console.table(violations);
process.exit(1);

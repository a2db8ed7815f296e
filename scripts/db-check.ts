/**
 * `npm run db:check [-- --remote | --local] [-- --persist-to DIR]`: runs the invariant
 * checker of src/db/invariants.ts against D1 through wrangler and lists every
 * violation. Exits 0 when the data is sound, 1 on a violation, 2 when it could not check.
 */
import { execFileSync } from "node:child_process";
import { INVARIANT_VIOLATIONS_SQL, type InvariantViolation } from "../src/db/invariants";

const args = process.argv.slice(2);
const where = args.includes("--remote") ? [] : args.includes("--local") ? [] : ["--local"];
const command = ["wrangler", "d1", "execute", "DB", ...where, ...args, "--json", "--command", INVARIANT_VIOLATIONS_SQL];

let output: string;
try {
  output = execFileSync("npx", command, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
} catch (err) {
  console.error(`db:check: wrangler failed: ${String(err)}`);
  process.exit(2);
}

const batches = JSON.parse(output) as { results: InvariantViolation[]; success: boolean }[];
const violations = batches.flatMap((batch) => batch.results);
if (violations.length === 0) {
  console.log("db:check: every invariant holds.");
  process.exit(0);
}
console.error(`db:check: ${violations.length} violation(s):`);
console.table(violations);
process.exit(1);

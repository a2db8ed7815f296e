// Copies Swagger UI's browser files from the installed `swagger-ui-dist` package into the
// static assets, so /docs needs no CDN. Run by wrangler's custom build (wrangler.toml
// [build]) before every `wrangler dev` and `wrangler deploy`, however they are started; the
// files are not committed, so the lockfile alone pins their version.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** What /docs loads, and the licence texts that must travel with the copy (Apache-2.0). */
const FILES = [
  "swagger-ui-bundle.js",
  "swagger-ui.css",
  "favicon-32x32.png",
  "favicon-16x16.png",
  "LICENSE",
  "NOTICE",
  "swagger-ui-bundle.js.LICENSE.txt",
];

const root = path.resolve(import.meta.dirname, "..");
const source = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = path.join(root, "public", "docs", "vendor");

const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

mkdirSync(target, { recursive: true });
let copied = 0;
for (const name of FILES) {
  const from = path.join(source, name);
  const to = path.join(target, name);
  // Unchanged files are left alone: rewriting them would make `wrangler dev` reload the assets.
  if (existsSync(to) && digest(to) === digest(from)) continue;
  writeFileSync(to, readFileSync(from));
  copied += 1;
}
console.log(`docs assets: ${copied} of ${FILES.length} files copied from swagger-ui-dist into public/docs/vendor`);

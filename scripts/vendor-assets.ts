// Copies the browser libraries of the static pages from their installed npm packages into
// the static assets, so that /docs and /console need no CDN: Swagger UI (swagger-ui-dist)
// for /docs, Cytoscape.js (cytoscape) for /console's graph. Run by wrangler's custom build
// (wrangler.toml [build]) before every `wrangler dev` and `wrangler deploy`, however they are
// started; the files are not committed, so the lockfile alone pins their versions.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** One package's files to copy: what the page loads, and the licence texts that travel with it. */
type Vendored = { pkg: string; files: string[]; into: string };

const VENDORED: Vendored[] = [
  {
    pkg: "swagger-ui-dist",
    files: [
      "swagger-ui-bundle.js",
      "swagger-ui.css",
      "favicon-32x32.png",
      "favicon-16x16.png",
      "LICENSE",
      "NOTICE",
      "swagger-ui-bundle.js.LICENSE.txt",
    ],
    into: "public/docs/vendor",
  },
  // The UMD build defines the global `cytoscape`, loaded by a plain <script> like Swagger UI.
  { pkg: "cytoscape", files: ["dist/cytoscape.min.js", "LICENSE"], into: "public/console/vendor" },
];

const root = path.resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
/** The folder of an installed package (cytoscape's `exports` hide its package.json from `resolve`). */
function packageDir(pkg: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (!existsSync(path.join(dir, "package.json")) || path.basename(dir) !== pkg) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package folder for ${pkg}`);
    dir = parent;
  }
  return dir;
}

const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

for (const { pkg, files, into } of VENDORED) {
  const source = packageDir(pkg);
  const target = path.join(root, into);
  mkdirSync(target, { recursive: true });
  let copied = 0;
  for (const name of files) {
    const from = path.join(source, name);
    const to = path.join(target, path.basename(name));
    // Unchanged files are left alone: rewriting them would make `wrangler dev` reload the assets.
    if (existsSync(to) && digest(to) === digest(from)) continue;
    writeFileSync(to, readFileSync(from));
    copied += 1;
  }
  console.log(`vendor assets: ${copied} of ${files.length} files copied from ${pkg} into ${into}`);
}

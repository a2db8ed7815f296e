import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// The arrows of docs/design.md's layout, checked on every import in src/: routes -> use
// cases -> durable -> db -> domain, the contract importable from all and importing nothing of ours.
const ROOT = path.join(import.meta.dirname, "..", "..");
const SRC = path.join(ROOT, "src");

/** What each part of src/ may import besides itself. The root files are shared plumbing. */
const ALLOWED: Record<string, readonly string[]> = {
  contract: [],
  domain: ["contract"],
  db: ["domain", "contract"],
  durable: ["db", "domain", "contract", "webhooks"],
  usecases: ["durable", "db", "domain", "contract", "webhooks", "errors.ts"],
  http: ["domain", "contract", "errors.ts", "text.ts", "db/metered.ts"],
  openapi: ["domain", "contract"],
  webhooks: ["contract"],
  routes: ["usecases", "http", "domain", "contract", "openapi", "webhooks", "errors.ts", "config.ts"],
  "errors.ts": ["contract"],
  "config.ts": ["domain", "contract", "errors.ts", "text.ts"],
  "text.ts": [],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** The files a file imports by relative path (type imports too: a loop of types is still a loop). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)[^"']*from\s+["'](\.[^"']+)["']/gm)].map((match) =>
    path.resolve(path.dirname(file), `${(match[1] ?? "").replace(/\.js$/, "")}.ts`),
  );
}

/** The part of src/ a file belongs to: its top folder, or its own name at the root. */
const partOf = (file: string) => path.relative(SRC, file).split(path.sep)[0] ?? "";

describe("src/ imports go one way", () => {
  const files = filesUnder(SRC).filter((file) => !["index.ts", "env.d.ts"].includes(path.relative(SRC, file)));

  it.each(files.map((file) => [path.relative(SRC, file), file]))("%s", (_name, file) => {
    const part = partOf(file);
    const allowed = ALLOWED[part];
    expect(allowed, `no rule for ${part}`).toBeDefined();
    const wrong = importsOf(file)
      .map((target) => path.relative(SRC, target))
      .filter((target) => {
        const targetPart = target.split(path.sep)[0] ?? "";
        return targetPart !== part && !allowed?.some((ok) => target === ok || targetPart === ok);
      });
    expect(wrong).toEqual([]);
  });
});

describe("no import loop", () => {
  it.each(["src", "bench", "tools", "scripts"])("in %s/", (dir) => {
    const files = filesUnder(path.join(ROOT, dir));
    const known = new Set(files);
    const state = new Map<string, "open" | "done">();
    const loops: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        loops.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(ROOT, f)).join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const next of importsOf(file)) if (known.has(next)) visit(next, [...trail, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(loops).toEqual([]);
  });
});

import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeHistoryFile } from "../../bench/history";
import { runImport, startImport } from "../../bench/import";
import { type Dump, dump, readStore, storeFactory } from "./import-store";

// `npm run import` as a person runs it: the command on files in a temporary directory, into
// local stores of its own (--persist-to), its output not a terminal. What it wrote is read
// back from the store's SQLite file.

let scratch: Awaited<ReturnType<typeof storeFactory>>;
/** Every table of a store just migrated: what a store nothing was written to still holds. */
let empty: Dump;
const file = (name: string) => path.join(scratch.dir, name);

beforeAll(async () => {
  scratch = await storeFactory();
  empty = await dump(scratch.template);
});

afterAll(async () => {
  await rm(scratch.dir, { recursive: true, force: true });
});

/** The summary's figure named `label`. */
const figure = (stdout: string, label: string) => Number(new RegExp(`${label}\\s+(\\d+)`).exec(stdout)?.[1]);

describe("npm run import: records /identify would refuse", () => {
  it("skips them into the rejects file, each with its line and error code, and imports the rest", async () => {
    const input = file("rejects.csv");
    await writeFile(
      input,
      [
        "email,phoneNumber,createdAt",
        "ada@shop.example,+447700900001,2024-01-01T10:00:00Z",
        "not an address,+447700900002,2024-01-02T10:00:00Z",
        ",,2024-01-03T10:00:00Z",
        "noreply@shop.example,,2024-01-04T10:00:00Z",
        '"Ada@Shop.Example ",+447700900003,2024-01-05T10:00:00Z',
        "",
      ].join("\n"),
    );
    const store = await scratch.store("rejects");
    const run = await runImport([input, "--persist-to", store]);
    expect(run.code, run.stderr).toBe(0);
    expect(figure(run.stdout, "records read")).toBe(5);
    expect(figure(run.stdout, "rejected records")).toBe(3);
    expect(run.stdout).toContain(`rejected records: ${input}.rejects.csv`);
    const rejects = (await readFile(`${input}.rejects.csv`, "utf8")).trim().split("\n");
    expect(rejects[0]).toBe("line,code,message");
    expect(rejects.slice(1).map((row) => row.split(",").slice(0, 2).join(","))).toEqual([
      "3,invalid_request",
      "4,invalid_request",
      "5,identifier_blocked",
    ]);
    const tables = await dump(store);
    expect(tables.contacts.map((c) => [c.email, c.phoneNumber, c.linkPrecedence, c.createdAt])).toEqual([
      ["ada@shop.example", "+447700900001", "primary", "2024-01-01T10:00:00.000Z"],
      ["ada@shop.example", "+447700900003", "secondary", "2024-01-05T10:00:00.000Z"],
    ]);
  });

  it("names NDJSON lines that are not JSON, too deep, or not an object", async () => {
    const input = file("rejects.ndjson");
    await writeFile(
      input,
      [
        '{"email":"grace@shop.example"}',
        "{not json",
        `{"email":${"[".repeat(40)}${"]".repeat(40)}}`,
        "[1,2]",
        '{"phoneNumber":"+447700900009"}',
      ].join("\n"),
    );
    const store = await scratch.store("rejects-ndjson");
    const run = await runImport([input, "--persist-to", store, "--rejects", file("ndjson-rejects.csv")]);
    expect(run.code, run.stderr).toBe(0);
    const rejects = (await readFile(file("ndjson-rejects.csv"), "utf8")).trim().split("\n").slice(1);
    expect(rejects.map((row) => row.split(",").slice(0, 2).join(","))).toEqual([
      "2,invalid_json",
      "3,invalid_json",
      "4,invalid_request",
    ]);
    expect((await dump(store)).contacts).toHaveLength(2);
  });
});

describe("npm run import: a file that cannot be imported as a whole", () => {
  // Each problem comes after good records, so that "before anything is written" is tested.
  const good = ["ada@shop.example,+447700900001,2024-01-01T10:00:00Z", "grace@shop.example,,2024-01-02T10:00:00Z"];
  const cases: { name: string; bytes: () => Buffer; error: RegExp }[] = [
    {
      name: "not UTF-8",
      bytes: () =>
        Buffer.concat([
          Buffer.from(["email,phoneNumber,createdAt", ...good, ""].join("\n")),
          Buffer.from([0x6a, 0xf6, 0x72, 0x67, 0x40, 0x73, 0x2e, 0x65, 0x78, 0x2c, 0x2c, 0x32, 0x30, 0x0a]),
        ]),
      error: /the file is not valid UTF-8 \(near byte \d+\); save it as UTF-8/,
    },
    {
      name: "no usable header",
      bytes: () => Buffer.from(["name,address", "Ada,London", ""].join("\n")),
      error: /line 1 is not a usable header: it must name an "email" or a "phoneNumber" column/,
    },
    {
      name: "records with and without createdAt",
      bytes: () => Buffer.from(["email,phoneNumber,createdAt", ...good, "linus@shop.example,,", ""].join("\n")),
      error: /line 4 has no createdAt but the records before it have: either every record has a createdAt or none has/,
    },
    {
      name: "an unparsable createdAt",
      bytes: () =>
        Buffer.from(
          ["email,phoneNumber,createdAt", ...good, "linus@shop.example,,2024-13-01T10:00:00Z", ""].join("\n"),
        ),
      error: /line 4: createdAt "2024-13-01T10:00:00Z" is not an ISO-8601 date/,
    },
    {
      name: "a time without a zone",
      bytes: () =>
        Buffer.from(["email,phoneNumber,createdAt", ...good, "linus@shop.example,,2024-03-01 09:30", ""].join("\n")),
      error: /line 4: createdAt "2024-03-01 09:30" is not an ISO-8601 date/,
    },
  ];

  for (const { name, bytes, error } of cases) {
    it(`${name}: a clear error, exit 2, nothing written (no rows, no rejects file)`, async () => {
      const input = file(`${name.replaceAll(" ", "-")}.csv`);
      await writeFile(input, bytes());
      const store = await scratch.store(name.replaceAll(" ", "-"));
      const run = await runImport([input, "--persist-to", store]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`import: ${error.source}`));
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(await dump(store)).toEqual(empty);
      expect(existsSync(`${input}.rejects.csv`)).toBe(false);
    });
  }
});

describe("npm run import: dry run, twice, progress", () => {
  let input: string;

  beforeAll(async () => {
    input = file("history.csv");
    await writeHistoryFile(input, { records: 3_000, seed: 7 });
  });

  it("--dry-run plans the whole file, prints the summary and writes nothing", async () => {
    const store = await scratch.store("dry-run");
    const run = await runImport([input, "--persist-to", store, "--dry-run"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("dry run: planned, nothing written");
    expect(figure(run.stdout, "records read")).toBe(3_000);
    expect(figure(run.stdout, "contacts created")).toBeGreaterThan(1_000);
    expect(figure(run.stdout, "merges")).toBeGreaterThan(0);
    expect(figure(run.stdout, "rejected records")).toBeGreaterThan(0);
    expect(run.stdout).not.toContain("rejected records:");
    expect(await dump(store)).toEqual(empty);
    expect(existsSync(`${input}.rejects.csv`)).toBe(false);

    // The same figures as the import that writes.
    const real = await runImport([input, "--persist-to", await scratch.store("dry-run-real")]);
    for (const label of ["records read", "contacts created", "merges", "rejected records"]) {
      expect(figure(real.stdout, label), label).toBe(figure(run.stdout, label));
    }
  });

  it("importing the same file twice changes nothing the second time", async () => {
    const store = await scratch.store("twice");
    const first = await runImport([input, "--persist-to", store]);
    expect(first.code, first.stderr).toBe(0);
    const after = await dump(store);
    expect(after.contacts.length).toBe(figure(first.stdout, "contacts created"));
    expect(after.imports).toHaveLength(1);
    expect(after.imports[0]?.finishedAt).toEqual(expect.any(String));

    const second = await runImport([input, "--persist-to", store]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("this file was imported already");
    expect(await dump(store)).toEqual(after);
    // Even with --resume.
    expect((await runImport([input, "--persist-to", store, "--resume"])).code).toBe(0);
    expect(await dump(store)).toEqual(after);
  });

  it("refuses a database that is not empty, writing nothing", async () => {
    const store = await scratch.store("in-use");
    expect((await runImport([input, "--persist-to", store])).code).toBe(0);
    const before = await dump(store);
    const other = file("other.csv");
    await writeHistoryFile(other, { records: 50, seed: 8 });
    const run = await runImport([other, "--persist-to", store]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the local database is not empty");
    expect(run.stderr).toContain("--url <service> --token <caller token>");
    expect(await dump(store)).toEqual(before);
  });

  it("without a terminal, prints plain progress lines (no bar, no escape codes), one at least per phase", async () => {
    const run = await runImport([input, "--persist-to", await scratch.store("plain")]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("\u001b");
    // workerd may add a diagnostic line of its own; the import's lines are the ones it names.
    const lines = run.stderr
      .trim()
      .split("\n")
      .filter((line) => line.startsWith("import "));
    for (const line of lines) {
      expect(line).toMatch(
        /^import (read|plan|load): \d+% \| read \d+ applied \d+ rejected \d+ \| \d+ (records|chunks)\/s \| ETA (\d+|\?)s$/,
      );
      // Each phase's rate counts what that phase moves: the load its chunks.
      expect(line.includes(" chunks/s "), line).toBe(line.startsWith("import load:"));
    }
    expect(lines.map((line) => line.split(":")[0])).toEqual(
      expect.arrayContaining(["import read", "import plan", "import load"]),
    );
    expect(lines.at(-1)).toMatch(/^import load: 100% \| read 3000 /);
  });
});

describe("npm run import: killed mid-way, then --resume", () => {
  it("gives every table exactly as an uninterrupted import of the same file", async () => {
    const input = file("resume.csv");
    // Enough for several chunks of ROWS_PER_CHUNK rows, so that the kill lands between two.
    await writeHistoryFile(input, { records: 40_000, seed: 11 });

    const whole = await scratch.store("uninterrupted");
    const uninterrupted = await runImport([input, "--persist-to", whole]);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);

    const store = await scratch.store("killed");
    const started = startImport([input, "--persist-to", store]);
    const chunks = () =>
      readStore(store, (db) => {
        const exists = db.prepare("SELECT 1 FROM imports LIMIT 1").get();
        if (!exists) return { done: 0, total: 0 };
        const row = db.prepare("SELECT chunksDone AS done, chunksTotal AS total FROM imports").get() as {
          done: number;
          total: number;
        };
        return row;
      });
    let at = { done: 0, total: 0 };
    const deadline = Date.now() + 90_000;
    while (at.done < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      at = await chunks();
    }
    // SIGKILL to the whole process group: Node and the workerd under it, mid-load.
    process.kill(-(started.child.pid ?? 0), "SIGKILL");
    const killed = await started.done;
    expect(killed.code).toBeNull();
    at = await chunks();
    expect(at.done).toBeGreaterThanOrEqual(2);
    expect(at.done).toBeLessThan(at.total);

    // Without --resume the import says how to go on, and writes nothing.
    const refused = await runImport([input, "--persist-to", store]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `stopped after chunk ${at.done} of ${at.total}: run the same command with --resume`,
    );

    const resumed = await runImport([input, "--persist-to", store, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resumed at chunk ${at.done + 1} of ${at.total}`);

    const [a, b] = [await dump(whole), await dump(store)];
    // The ledger's own times are those of each run; everything else is identical.
    const ledger = (rows: Record<string, unknown>[]) => rows.map(({ startedAt: _s, finishedAt: _f, ...rest }) => rest);
    expect(ledger(b.imports)).toEqual(ledger(a.imports));
    expect(b.imports[0]?.finishedAt).toEqual(expect.any(String));
    for (const table of ["contacts", "contact_bridges", "contact_events", "contact_event_contacts"] as const) {
      expect(b[table].length, table).toBeGreaterThan(0);
      expect(b[table], table).toEqual(a[table]);
    }
    expect(b.contact_separations).toEqual(a.contact_separations);
    expect(b.sqlite_sequence).toEqual(a.sqlite_sequence);
  });
});

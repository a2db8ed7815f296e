/**
 * `npm run import -- <file> [options]`: loads history (CSV or NDJSON) through the rules of
 * `/identify`. Into an empty D1 database it plans the whole file offline and writes the
 * result in large atomic chunks; into a database in use it goes through the service. See
 * docs/operations.md, "Importing history".
 */

import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { type Collected, type CollectProgress, collectRecords } from "./collect";
import { localD1 } from "./d1-local";
import { remoteD1 } from "./d1-remote";
import { type D1Executor, loadChunks, readState } from "./load-d1";
import { loadThroughService, ServiceError, savedProgress } from "./load-service";
import { type ImportCounts, type OrderedRecord, planImport } from "./plan";
import { Progress, type Summary, summaryText } from "./progress";
import { ImportFileError } from "./read";
import { RejectsFile } from "./rejects";
import { readSettings } from "./settings";
import { chunkCount, type Ledger } from "./statements";

const USAGE = `usage: npm run import -- <file> [options]
  <file>                  CSV (header: email, phoneNumber, optional createdAt) or NDJSON, UTF-8
  --local                 into the local D1 database of npm run dev (the default); must be empty
  --persist-to <dir>      with --local: wrangler's local state directory (as wrangler d1 takes it)
  --remote                into production's D1 database, through wrangler; must be empty
  --url <service>         through a running service's /identify (a database in use), with --token
  --token <token>         a caller token (API_TOKENS) of that service
  --concurrency <n>       with --url: requests in flight (default 8)
  --rejects <file>        where refused records go (default: <file>.rejects.csv)
  --resume                continue an interrupted import of the same file
  --dry-run               plan the whole file and print the summary; write nothing`;

/** A wrong command line or a database the import must not touch: the message says what to do. */
class UsageError extends Error {}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      local: { type: "boolean", default: false },
      remote: { type: "boolean", default: false },
      "persist-to": { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      concurrency: { type: "string", default: "8" },
      rejects: { type: "string" },
      resume: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("give exactly one file to import");
  if ([values.local, values.remote, values.url !== undefined].filter(Boolean).length > 1) {
    throw new UsageError("choose one of --local, --remote and --url");
  }
  if (values.url !== undefined && !values.token) throw new UsageError("--url needs --token <caller token>");
  if (values["persist-to"] !== undefined && (values.remote || values.url !== undefined)) {
    throw new UsageError("--persist-to goes with --local only");
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError("--concurrency must be a whole number from 1 to 64");
  }
  return { ...values, file, concurrency };
}

type Options = ReturnType<typeof options>;

/** The ledger id: the file's digest and the protection it was planned under (another limit, another plan). */
const ledgerId = (digest: string, settingsKey: string) =>
  createHash("sha256").update(`${digest}\n${settingsKey}`).digest("hex").slice(0, 32);

/** Reads, screens and orders the file, with the reading shown as it goes. */
async function collect(opts: Options, rejects: RejectsFile, progress: Progress, counters: CollectProgress) {
  const { blockList } = readSettings();
  const size = (await stat(opts.file)).size;
  progress.start("read", size, "bytes");
  const ticker = setInterval(() => progress.update(counters.bytes), 200);
  try {
    return await collectRecords(opts.file, blockList, rejects, counters);
  } finally {
    clearInterval(ticker);
    progress.update(counters.bytes);
    progress.stop();
  }
}

/**
 * The kept records as the planner takes them, letting go of each record's values once
 * planned and of the columns at the end, so that the plan's rows replace the file's records in memory rather than adding
 * to them (a million records must fit in 1 GiB).
 */
function* ordered(collected: Collected, importTime: number, onRecord: () => void) {
  const { kept } = collected;
  for (let index = 0; index < kept.length; index++) {
    const record = kept.get(index);
    if (record === undefined) break;
    kept.forget(index);
    onRecord();
    const next: OrderedRecord = {
      line: record.line,
      who: record.who,
      ignored: record.ignored,
      at: record.at ?? importTime,
    };
    yield next;
  }
  kept.clear();
}

/** Opens the target database for `use`, and closes it after. */
async function withDatabase<T>(opts: Options, use: (db: D1Executor) => Promise<T>): Promise<T> {
  const db = opts.remote ? await remoteD1() : await localD1(opts["persist-to"]);
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/**
 * Into an empty D1 database (local or remote): plan offline, then load in chunks. The
 * database is opened twice, for its state and then for the load: planning a large file
 * keeps the process busy for a minute, long enough for an idle connection to be dropped.
 */
async function intoD1(opts: Options, collected: Collected, progress: Progress, counters: CollectProgress) {
  const where = opts.remote ? "the remote database" : "the local database";
  const settings = readSettings();
  const id = ledgerId(collected.digest, settings.key);
  const state = opts["dry-run"] ? undefined : await withDatabase(opts, (db) => readState(db, id));
  if (state && !state.migrated) {
    throw new UsageError(
      `${where} has not got the migrations up to 0005_imports: run npm run ${opts.remote ? "db:migrate:remote" : "db:migrate:local"} first`,
    );
  }
  const ledger = state?.ledger;
  if (ledger?.finishedAt)
    return {
      counts: undefined,
      note: `this file was imported already (finished ${ledger.finishedAt}): nothing changed`,
    };
  if (ledger && !opts.resume) {
    throw new UsageError(
      `an import of this file stopped after chunk ${ledger.chunksDone} of ${ledger.chunksTotal}: run the same command with --resume`,
    );
  }
  if (!ledger && state?.used) {
    throw new UsageError(
      `${where} is not empty: an import plans offline only from an empty database. ` +
        "Import into a database in use through the service: --url <service> --token <caller token>",
    );
  }
  const importTime = ledger?.startedAt ?? new Date().toISOString();
  progress.start("plan", collected.kept.length, "records");
  let planned = 0;
  const plan = planImport(
    ordered(collected, Date.parse(importTime), () => {
      planned += 1;
      counters.applied = planned;
      if (planned % 4096 === 0) progress.update(planned);
    }),
    settings.limits,
  );
  progress.update(planned);
  progress.stop();
  if (!state) return { counts: plan.counts, note: "dry run: planned, nothing written" };
  const book: Ledger = { id, source: path.basename(opts.file), records: collected.read, startedAt: importTime };
  const from = (ledger?.chunksDone ?? 0) + 1;
  const total = chunkCount(plan);
  if (ledger && ledger.chunksTotal !== total) {
    throw new UsageError(
      `the plan has ${total} chunks but the stopped import had ${ledger.chunksTotal}: not the same import`,
    );
  }
  progress.start("load", total, "chunks", from - 1);
  await withDatabase(opts, (db) => loadChunks(db, plan, book, from, (chunk) => progress.update(chunk.index)));
  progress.stop();
  const resumed = from > 1 ? ` (resumed at chunk ${from} of ${total})` : "";
  return { counts: plan.counts, note: `imported into ${where}${resumed}` };
}

/** Into a database in use: through the service's /identify. */
async function throughService(
  opts: Options,
  collected: Collected,
  rejects: RejectsFile,
  progress: Progress,
  counters: CollectProgress,
) {
  const url = opts.url ?? "";
  const stateFile = `${opts.file}.import-state.json`;
  const from = opts.resume ? await savedProgress(stateFile, collected.digest, url) : 0;
  if (opts["dry-run"])
    return { counts: undefined, note: `dry run: ${collected.kept.length - from} records to send, nothing sent` };
  progress.start("send", collected.kept.length, "records", from);
  const counts = await loadThroughService(
    { url, token: opts.token ?? "", concurrency: opts.concurrency },
    collected.kept,
    from,
    { stateFile, digest: collected.digest },
    rejects,
    (sent) => {
      counters.applied = from + sent.applied + sent.rejected;
      counters.rejected = collected.rejected + sent.rejected;
      progress.update(counters.applied);
    },
  );
  progress.stop();
  const resumed = from > 0 ? ` (resumed after ${from} records)` : "";
  return { counts, note: `sent through ${url}${resumed}` };
}

async function main(): Promise<void> {
  const started = Date.now();
  const opts = options();
  const counters: CollectProgress = { bytes: 0, read: 0, applied: 0, rejected: 0 };
  const progress = new Progress(counters);
  // A dry run writes no file unless asked to: the rejects only with --rejects.
  const rejectsPath = opts.rejects ?? `${opts.file}.rejects.csv`;
  const rejects = new RejectsFile(rejectsPath);
  let result: { counts: Partial<ImportCounts> | undefined; note: string };
  let collected: Collected;
  try {
    collected = await collect(opts, rejects, progress, counters);
    result =
      opts.url !== undefined
        ? await throughService(opts, collected, rejects, progress, counters)
        : await intoD1(opts, collected, progress, counters);
  } catch (err) {
    progress.stop();
    await rejects.discard();
    throw err;
  }
  if (opts["dry-run"] && opts.rejects === undefined) await rejects.discard();
  else await rejects.keep();
  const counts = result.counts ?? {};
  const summary: Summary = {
    records: collected.read,
    contactsCreated: counts.contactsCreated ?? 0,
    merges: counts.merges ?? 0,
    blockedIdentifiers: counts.blockedIdentifiers ?? 0,
    overLimitIdentifiers: counts.overLimitIdentifiers ?? 0,
    rejected: rejects.count,
    seconds: (Date.now() - started) / 1000,
    note: result.note,
  };
  console.log(summaryText(summary));
  if (rejects.count > 0 && (!opts["dry-run"] || opts.rejects !== undefined))
    console.log(`rejected records: ${rejectsPath}`);
}

main().catch((err: unknown) => {
  const known = err instanceof ImportFileError || err instanceof UsageError || err instanceof ServiceError;
  console.error(
    `import: ${known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  if (err instanceof UsageError && err.message.startsWith("give exactly")) console.error(USAGE);
  process.exitCode = known ? 2 : 1;
});

/**
 * Sends the records of an import through a running service's `/identify`, in order, at a
 * bounded concurrency, waiting out `429` and `503` for their `Retry-After`. Progress is kept
 * in a state file beside the input (the records done, as a prefix of the apply order), so
 * that `--resume` after a kill or a lost network starts where it stopped; a record sent
 * twice changes nothing the second time, which is what makes that safe.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { type Kept, type KeptRecords, keptAt } from "./collect";
import type { RejectsFile } from "./rejects";

export type ServiceTarget = { url: string; token: string; concurrency: number };

/** How many times one record is retried (throttled, unavailable, network lost) before the import stops. */
const MAX_ATTEMPTS = 30;
/** Waits when the service gives no Retry-After, or the network is down: doubling, capped. */
const BACKOFF_MS = { first: 500, max: 15_000 } as const;
/** How often the state file is rewritten while records complete. */
const SAVE_EVERY_MS = 1_000;

/** The state file: which file (by digest), to which service, how many records are done. */
type SavedState = { digest: string; url: string; done: number };

/** What sending the records found, for the summary. */
export type ServiceCounts = {
  applied: number;
  rejected: number;
  blockedIdentifiers: number;
  overLimitIdentifiers: number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The prefix of records done by an earlier run of the same file to the same service, or 0. */
export async function savedProgress(stateFile: string, digest: string, url: string): Promise<number> {
  try {
    const saved = JSON.parse(await readFile(stateFile, "utf8")) as SavedState;
    return saved.digest === digest && saved.url === url ? saved.done : 0;
  } catch {
    return 0;
  }
}

/** The service refused the import as a whole (a token it does not accept, an error it does not explain). */
export class ServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceError";
  }
}

function retryAfterMs(response: Response, attempt: number): number {
  const seconds = Number(response.headers.get("retry-after"));
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return Math.min(BACKOFF_MS.first * 2 ** attempt, BACKOFF_MS.max);
}

type Sent = { kind: "applied"; ignored: string } | { kind: "refused"; code: string; message: string };

/** Sends one record until the service takes or refuses it. */
async function send(target: ServiceTarget, record: Kept): Promise<Sent> {
  for (let attempt = 0; ; attempt++) {
    if (attempt >= MAX_ATTEMPTS) {
      throw new ServiceError(
        `line ${record.line}: the service kept refusing or failing after ${MAX_ATTEMPTS} attempts`,
      );
    }
    let response: Response;
    try {
      response = await fetch(new URL("/identify", target.url), {
        method: "POST",
        headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json" },
        body: JSON.stringify(record.who),
      });
    } catch {
      await sleep(Math.min(BACKOFF_MS.first * 2 ** attempt, BACKOFF_MS.max));
      continue;
    }
    const body = await response.text();
    if (response.ok) return { kind: "applied", ignored: response.headers.get("identity-ignored") ?? "" };
    if (response.status === 429 || response.status === 503) {
      await sleep(retryAfterMs(response, attempt));
      continue;
    }
    let error: { code?: string; message?: string } = {};
    try {
      error = (JSON.parse(body) as { error?: typeof error }).error ?? {};
    } catch {
      // Not our JSON envelope (a proxy's page): reported by status below.
    }
    if (response.status === 400 || response.status === 413 || response.status === 422) {
      return { kind: "refused", code: error.code ?? String(response.status), message: error.message ?? "" };
    }
    throw new ServiceError(
      `/identify answered ${response.status} ${error.code ?? ""}: ${error.message ?? body.slice(0, 200)}`,
    );
  }
}

/**
 * Sends `records[from..]` in order with `target.concurrency` requests in flight, saving
 * the completed prefix to `stateFile`. Stops at the first error it cannot wait out, with
 * the state saved for `--resume`.
 */
export async function loadThroughService(
  target: ServiceTarget,
  records: KeptRecords | readonly Kept[],
  from: number,
  saved: { stateFile: string; digest: string },
  rejects: RejectsFile,
  onRecord: (counts: ServiceCounts) => void,
): Promise<ServiceCounts> {
  const counts: ServiceCounts = { applied: 0, rejected: 0, blockedIdentifiers: 0, overLimitIdentifiers: 0 };
  const finished = new Uint8Array(records.length);
  let done = from;
  let next = from;
  let lastSave = 0;
  let stopped = false;
  // One write of the state file at a time, each replacing it whole.
  let saving = Promise.resolve();
  const save = () => {
    const state: SavedState = { digest: saved.digest, url: target.url, done };
    saving = saving.then(async () => {
      await writeFile(`${saved.stateFile}.tmp`, JSON.stringify(state));
      await rename(`${saved.stateFile}.tmp`, saved.stateFile);
    });
    return saving;
  };
  const worker = async () => {
    for (let i = next++; i < records.length && !stopped; i = next++) {
      const record = keptAt(records, i);
      if (!record) break;
      const sent = await send(target, record);
      if (sent.kind === "refused") {
        counts.rejected += 1;
        await rejects.write(record.line, sent.code, sent.message);
      } else {
        counts.applied += 1;
        counts.blockedIdentifiers += (sent.ignored.match(/=blocked/g) ?? []).length;
        counts.overLimitIdentifiers += (sent.ignored.match(/=cluster_limit/g) ?? []).length;
      }
      finished[i] = 1;
      while (done < records.length && finished[done] === 1) done++;
      onRecord(counts);
      if (Date.now() - lastSave > SAVE_EVERY_MS) {
        lastSave = Date.now();
        await save();
      }
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, target.concurrency) }, () =>
        worker().catch((err: unknown) => {
          stopped = true;
          throw err;
        }),
      ),
    );
  } finally {
    await save();
  }
  await rm(saved.stateFile, { force: true });
  return counts;
}

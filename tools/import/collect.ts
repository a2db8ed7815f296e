/**
 * Reads the whole file once: every record validated and screened (validate.ts), refused ones
 * written to the rejects file, the accepted ones kept in apply order (createdAt, then file
 * order). The file-level rules (one createdAt policy for every record, every createdAt
 * parsable) fail the import before anything is written to the database.
 */
import { createHash } from "node:crypto";
import type { BlockList, Ignored } from "../../src/domain/blocking";
import type { Identifiers } from "../../src/domain/contact";
import { NumberColumn } from "./columns";
import { ImportFileError, type ReadProgress, readRecords } from "./read";
import type { RejectsFile } from "./rejects";
import { parseCreatedAt } from "./timestamps";
import { screenRecord } from "./validate";

/** An accepted record; `at` is its createdAt in epoch milliseconds (parseCreatedAt's instant), if it has one. */
export type Kept = { line: number; who: Identifiers; ignored: readonly Ignored[]; at: number | undefined };

/** What most records have had ignored: one shared empty list rather than a million. */
const NOTHING_IGNORED: readonly Ignored[] = Object.freeze([]);

/**
 * The accepted records, stored by column rather than as an object per record (a million
 * objects with their timestamps took 200 MB of heap; these columns about half that): lines
 * and times in typed arrays, the values as the strings read, ignored fields only where a
 * record has some. Read in apply order with `get`.
 */
export class KeptRecords {
  private readonly lines = new NumberColumn(Int32Array);
  /** `createdAt` as epoch milliseconds; NaN for none. */
  private readonly times = new NumberColumn(Float64Array);
  private readonly emails: (string | undefined)[] = [];
  private readonly phones: (string | undefined)[] = [];
  private readonly ignored = new Map<number, readonly Ignored[]>();
  /** Apply order: positions of the columns, once sorted. */
  private order: Uint32Array | undefined;
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** Appends a record (file order). */
  push(record: Kept): void {
    const at = this.count;
    this.lines.push(record.line);
    this.times.push(record.at ?? Number.NaN);
    this.emails.push(record.who.email);
    this.phones.push(record.who.phoneNumber);
    if (record.ignored.length > 0) this.ignored.set(at, record.ignored);
    this.count += 1;
  }

  /** Puts the records in apply order: by time, equal times in file order. */
  sortByTime(): void {
    const times = this.times;
    this.order = new Uint32Array(this.count).map((_, i) => i).sort((a, b) => times.get(a) - times.get(b) || a - b);
  }

  /** The record `index`-th in apply order. */
  get(index: number): Kept | undefined {
    if (index < 0 || index >= this.count) return undefined;
    const at = this.order?.[index] ?? index;
    const who: Identifiers = {};
    const email = this.emails[at];
    const phoneNumber = this.phones[at];
    if (email !== undefined) who.email = email;
    if (phoneNumber !== undefined) who.phoneNumber = phoneNumber;
    const time = this.times.get(at);
    return {
      line: this.lines.get(at),
      who,
      ignored: this.ignored.get(at) ?? NOTHING_IGNORED,
      at: Number.isNaN(time) ? undefined : time,
    };
  }

  /** Lets go of every record (the columns too): the plan holds what is still needed. */
  clear(): void {
    this.lines.clear();
    this.times.clear();
    this.emails.length = 0;
    this.phones.length = 0;
    this.ignored.clear();
    this.order = undefined;
    this.count = 0;
  }

  /** Lets go of the values of the record `index`-th in apply order (already read for the last time). */
  forget(index: number): void {
    const at = this.order?.[index] ?? index;
    this.emails[at] = undefined;
    this.phones[at] = undefined;
  }
}

/** Record `index` of `records`, whichever way they are held. */
export const keptAt = (records: KeptRecords | readonly Kept[], index: number): Kept | undefined =>
  records instanceof KeptRecords ? records.get(index) : records[index];

export type Collected = {
  /** Accepted records in apply order. */
  kept: KeptRecords;
  read: number;
  rejected: number;
  /** Whether the records carry `createdAt` (all of them) or not (none). */
  dated: boolean;
  /** SHA-256 of the file's bytes, hex. */
  digest: string;
};

/** What the reading has got to, for the progress display. */
export type CollectProgress = ReadProgress & { read: number; applied: number; rejected: number };

/**
 * Collects the records of `path` under `blockList`, writing refusals to `rejects`.
 * @throws ImportFileError for a file that cannot be imported as a whole.
 */
export async function collectRecords(
  path: string,
  blockList: BlockList,
  rejects: RejectsFile,
  progress: CollectProgress,
): Promise<Collected> {
  const hash = createHash("sha256");
  const kept = new KeptRecords();
  let dated: boolean | undefined;
  for await (const record of readRecords(path, progress, (chunk) => hash.update(chunk))) {
    progress.read += 1;
    const hasDate = record.createdAt !== undefined;
    dated ??= hasDate;
    if (hasDate !== dated) {
      throw new ImportFileError(
        `line ${record.line} ${hasDate ? "has" : "has no"} createdAt but the records before it ${dated ? "have" : "do not"}: ` +
          "either every record has a createdAt or none has",
      );
    }
    let at: number | undefined;
    if (record.createdAt !== undefined) {
      const parsed = parseCreatedAt(record.createdAt);
      if (parsed === undefined) {
        throw new ImportFileError(
          `line ${record.line}: createdAt ${JSON.stringify(record.createdAt.slice(0, 40))} is not an ISO-8601 date ` +
            "or date-time with a time zone (e.g. 2024-03-01T09:30:00Z)",
        );
      }
      at = Date.parse(parsed);
    }
    const screened = record.refused ?? screenRecord(record.fields, blockList);
    if (!screened.ok) {
      progress.rejected += 1;
      await rejects.write(record.line, screened.code, screened.message);
      continue;
    }
    kept.push({ line: record.line, who: screened.who, ignored: screened.ignored, at });
  }
  // Stable: equal times keep file order.
  if (dated) kept.sortByTime();
  return { kept, read: progress.read, rejected: progress.rejected, dated: dated ?? false, digest: hash.digest("hex") };
}

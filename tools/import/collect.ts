/**
 * Reads the whole file once: every record validated and screened (validate.ts), refused ones
 * written to the rejects file, the accepted ones kept in apply order (createdAt, then file
 * order). The file-level rules (one createdAt policy for every record, every createdAt
 * parsable) fail the import before anything is written to the database.
 */
import { createHash } from "node:crypto";
import type { BlockList, Ignored } from "../../src/domain/blocking";
import type { Identifiers } from "../../src/domain/contact";
import { ImportFileError, type ReadProgress, readRecords } from "./read";
import type { RejectsFile } from "./rejects";
import { parseCreatedAt } from "./timestamps";
import { screenRecord } from "./validate";

/** An accepted record before the import's time and request ids are known. */
export type Kept = { line: number; who: Identifiers; ignored: readonly Ignored[]; at: string | undefined };

/** What most records have had ignored: one shared empty list rather than a million. */
const NOTHING_IGNORED: readonly Ignored[] = Object.freeze([]);

export type Collected = {
  /** Accepted records in apply order. */
  kept: Kept[];
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
  const kept: Kept[] = [];
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
    let at: string | undefined;
    if (record.createdAt !== undefined) {
      at = parseCreatedAt(record.createdAt);
      if (at === undefined) {
        throw new ImportFileError(
          `line ${record.line}: createdAt ${JSON.stringify(record.createdAt.slice(0, 40))} is not an ISO-8601 date ` +
            "or date-time with a time zone (e.g. 2024-03-01T09:30:00Z)",
        );
      }
    }
    const screened = record.refused ?? screenRecord(record.fields, blockList);
    if (!screened.ok) {
      progress.rejected += 1;
      await rejects.write(record.line, screened.code, screened.message);
      continue;
    }
    const ignored = screened.ignored.length > 0 ? screened.ignored : NOTHING_IGNORED;
    kept.push({ line: record.line, who: screened.who, ignored, at });
  }
  // Stable: equal times keep file order.
  if (dated) kept.sort((a, b) => (a.at === b.at ? 0 : (a.at ?? "") < (b.at ?? "") ? -1 : 1));
  return { kept, read: progress.read, rejected: progress.rejected, dated: dated ?? false, digest: hash.digest("hex") };
}

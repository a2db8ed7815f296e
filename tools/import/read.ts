/**
 * Reads an import file as a stream of records: CSV with a header row (RFC 4180, parsed by
 * csv-parse) or NDJSON, UTF-8 only. What makes the whole file unusable is an ImportFileError,
 * raised before anything is written; what is wrong with one record is left to validate.ts.
 */
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { parse } from "csv-parse";
import { parseJsonRecord, type RawFields, type Refused } from "./validate";

/** The file as a whole cannot be imported; nothing has been written. */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportFileError";
  }
}

/** One record of the file: its line, its identifier fields and `createdAt` as written, or why it cannot be read. */
export type FileRecord = { line: number; fields: RawFields; createdAt: string | undefined; refused?: Refused };

/** How far the reading has got, for the progress display. */
export type ReadProgress = { bytes: number };

/** Decodes UTF-8 strictly, so that a file in another encoding fails instead of importing mangled values. */
class StrictUtf8 extends Transform {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private offset = 0;

  constructor(private readonly progress: ReadProgress) {
    super({ decodeStrings: true, readableObjectMode: false, encoding: "utf8" });
  }

  private decode(bytes: Uint8Array | undefined, callback: TransformCallback): void {
    try {
      const text = bytes ? this.decoder.decode(bytes, { stream: true }) : this.decoder.decode();
      callback(null, text);
    } catch {
      callback(new ImportFileError(`the file is not valid UTF-8 (near byte ${this.offset}); save it as UTF-8`));
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.offset += chunk.byteLength;
    this.progress.bytes = this.offset;
    this.decode(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.decode(undefined, callback);
  }
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;

async function* csvRecords(lines: AsyncIterable<string>): AsyncGenerator<FileRecord> {
  const parser = parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true });
  const feeding = (async () => {
    for await (const chunk of lines) if (!parser.write(chunk)) await new Promise((go) => parser.once("drain", go));
    parser.end();
  })().catch((err: unknown) => parser.destroy(err instanceof Error ? err : new Error(String(err))));
  let columns: { email: number; phoneNumber: number; createdAt: number } | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!columns) {
        const names = record.map((name) => name.trim());
        columns = {
          email: names.indexOf("email"),
          phoneNumber: names.indexOf("phoneNumber"),
          createdAt: names.indexOf("createdAt"),
        };
        if (columns.email < 0 && columns.phoneNumber < 0) {
          throw new ImportFileError(
            'line 1 is not a usable header: it must name an "email" or a "phoneNumber" column (or both)',
          );
        }
        continue;
      }
      const cell = (at: number) => (at < 0 ? undefined : record[at]);
      yield {
        line: info.lines,
        fields: { email: cell(columns.email), phoneNumber: cell(columns.phoneNumber) },
        createdAt: text(cell(columns.createdAt)),
      };
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    const code = (err as { code?: string }).code;
    if (code === undefined) throw err;
    throw new ImportFileError(`the file is not valid CSV: ${(err as Error).message}`);
  } finally {
    await feeding;
  }
  if (!columns) throw new ImportFileError("the file is empty: a CSV file needs a header row");
}

async function* ndjsonRecords(chunks: AsyncIterable<string>): AsyncGenerator<FileRecord> {
  let line = 0;
  let rest = "";
  const record = (body: string): FileRecord | undefined => {
    line += 1;
    const trimmed = (line === 1 ? body.replace(/^\uFEFF/, "") : body).trim();
    if (trimmed === "") return undefined;
    const parsed = parseJsonRecord(trimmed);
    if (!parsed.ok) return { line, fields: {}, createdAt: undefined, refused: parsed };
    const value = parsed.value;
    const object = typeof value === "object" && value !== null && !Array.isArray(value);
    const createdAt = object ? (value as { createdAt?: unknown }).createdAt : undefined;
    // Anything but an object goes to the schema as it is, which refuses it as /identify does.
    return { line, fields: value as RawFields, createdAt: createdAt == null ? undefined : String(createdAt) };
  };
  for await (const chunk of chunks) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) {
      const found = record(part);
      if (found) yield found;
    }
  }
  const last = record(rest);
  if (last) yield last;
}

/** Peeks at the first characters: an NDJSON file starts with `{`, a CSV file with its header. */
async function* sniffed(source: AsyncIterable<string>): AsyncGenerator<FileRecord> {
  const iterator = source[Symbol.asyncIterator]();
  const buffered: string[] = [];
  let head = "";
  while (head.replace(/^\uFEFF/, "").trim() === "") {
    const next = await iterator.next();
    if (next.done) break;
    buffered.push(next.value);
    head += next.value;
  }
  const rest: AsyncIterable<string> = {
    async *[Symbol.asyncIterator]() {
      yield* buffered;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    },
  };
  if (head.replace(/^\uFEFF/, "").trim() === "") throw new ImportFileError("the file is empty");
  yield* head
    .replace(/^\uFEFF/, "")
    .trimStart()
    .startsWith("{")
    ? ndjsonRecords(rest)
    : csvRecords(rest);
}

/**
 * The records of the file at `path`, in file order, read as a stream (memory does not grow
 * with the file here). `progress.bytes` follows the bytes read; `onBytes` sees each chunk
 * (the import's digest is taken from them).
 * @throws ImportFileError when the file is not UTF-8, empty, or has no usable header.
 */
export function readRecords(
  path: string,
  progress: ReadProgress,
  onBytes: (chunk: Buffer) => void,
): AsyncGenerator<FileRecord> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  file.on("data", (chunk) => onBytes(chunk as Buffer));
  const decoded = file.pipe(new StrictUtf8(progress));
  file.on("error", (err) => decoded.destroy(err));
  return sniffed(decoded as AsyncIterable<string>);
}

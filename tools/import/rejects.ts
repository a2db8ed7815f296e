/**
 * The rejects file: one CSV row per refused record (`line,code,message`), written to a
 * temporary file beside its destination and moved there when the import is done with it,
 * so that a failed import leaves no half-written rejects behind.
 */
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";

const quoted = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

export class RejectsFile {
  private readonly temporary: string;
  private readonly out: WriteStream;
  count = 0;

  constructor(readonly path: string) {
    this.temporary = `${path}.${process.pid}.partial`;
    this.out = createWriteStream(this.temporary);
    this.out.write("line,code,message\n");
  }

  /** Records that the record ending on `line` was refused with `code`. */
  async write(line: number, code: string, message: string): Promise<void> {
    this.count += 1;
    if (!this.out.write(`${line},${quoted(code)},${quoted(message)}\n`)) await once(this.out, "drain");
  }

  /** Moves the rejects into place; none at all leaves no file (and removes an old one). */
  async keep(): Promise<void> {
    await new Promise((done) => this.out.end(done));
    if (this.count === 0) {
      await rm(this.temporary, { force: true });
      await rm(this.path, { force: true });
    } else await rename(this.temporary, this.path);
  }

  /** Drops the rejects: the import failed as a whole. */
  async discard(): Promise<void> {
    await new Promise((done) => this.out.end(done));
    await rm(this.temporary, { force: true });
  }
}

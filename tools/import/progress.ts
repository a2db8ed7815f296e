/**
 * What a person watching the import sees: a progress bar on a terminal (cli-progress), a
 * plain line every few seconds otherwise (a log, a CI job), and the summary at the end.
 */
import cliProgress from "cli-progress";

/** The counters every phase shows. */
export type Counters = { read: number; applied: number; rejected: number };

/** Seconds between plain progress lines when the output is not a terminal. */
const PLAIN_EVERY_MS = 5_000;

const perSecond = (count: number, since: number) => Math.round(count / Math.max((Date.now() - since) / 1000, 0.001));

export class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private phase = "";
  private total = 0;
  private startedAt = Date.now();
  private lastLine = 0;
  private value = 0;
  /** Where the phase started (a resumed load starts past its written chunks). */
  private base = 0;
  /** What the rate counts: records while reading (the bar itself counts bytes), the phase's steps after. */
  private rateUnit = "";
  /** The value the last plain line showed (-1: none yet in this phase). */
  private printed = -1;

  constructor(
    private readonly counters: Counters,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Starts a phase of `total` steps (`unit`: what a step is), `from` of them already done. */
  start(phase: string, total: number, unit: string, from = 0): void {
    this.stop();
    this.phase = phase;
    this.total = Math.max(total, 1);
    this.startedAt = Date.now();
    this.lastLine = Date.now();
    this.value = from;
    this.base = from;
    this.rateUnit = phase === "read" ? "records" : unit;
    this.printed = -1;
    if (!this.out.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.out,
        format: `${phase.padEnd(8)} [{bar}] {percentage}% | {value}/{total} ${unit} | read {read} applied {applied} rejected {rejected} | {rate} ${this.rateUnit}/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.total, from, this.payload());
  }

  private payload() {
    const moved = this.phase === "read" ? this.counters.read : this.value - this.base;
    return { ...this.counters, rate: perSecond(moved, this.startedAt) };
  }

  /** Moves the current phase to `value` steps. */
  update(value: number): void {
    this.value = value;
    if (this.bar) {
      this.bar.update(value, this.payload());
      return;
    }
    if (Date.now() - this.lastLine < PLAIN_EVERY_MS) return;
    this.plainLine(value);
  }

  private plainLine(value: number): void {
    this.lastLine = Date.now();
    this.printed = value;
    const { read, applied, rejected, rate } = this.payload();
    const percent = Math.floor((100 * value) / this.total);
    const done = value - this.base;
    const eta = done > 0 ? Math.round((((Date.now() - this.startedAt) / done) * (this.total - value)) / 1000) : "?";
    this.out.write(
      `import ${this.phase}: ${percent}% | read ${read} applied ${applied} rejected ${rejected} | ${rate} ${this.rateUnit}/s | ETA ${eta}s\n`,
    );
  }

  /** Ends the current phase: the bar stays on screen; without a terminal, a last line says where it ended. */
  stop(): void {
    if (this.bar) this.bar.stop();
    else if (this.phase !== "" && this.printed !== this.value) this.plainLine(this.value);
    this.bar = undefined;
    this.phase = "";
  }
}

/** What the summary reports. */
export type Summary = {
  records: number;
  contactsCreated: number;
  merges: number;
  blockedIdentifiers: number;
  overLimitIdentifiers: number;
  rejected: number;
  seconds: number;
  note: string;
};

/** The summary, one fact a line. */
export function summaryText(summary: Summary): string {
  return [
    summary.note,
    `  records read           ${summary.records}`,
    `  contacts created       ${summary.contactsCreated}`,
    `  merges                 ${summary.merges}`,
    `  blocked identifiers    ${summary.blockedIdentifiers}`,
    `  over-limit identifiers ${summary.overLimitIdentifiers}`,
    `  rejected records       ${summary.rejected}`,
    `  time                   ${summary.seconds.toFixed(1)} s`,
  ].join("\n");
}

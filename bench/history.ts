/**
 * Generated history files for `npm run import`: the bench's `--import` and the import's Node
 * tests. Shaped like a shop's orders: customers with one or two emails and phones, each
 * record one order naming some of them, a few orders joining two customers (merges), a few
 * records `/identify` refuses; times over three years, in no particular file order.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { seededRandom } from "./random";

export type HistoryOptions = {
  records: number;
  /** Seeds the generator: the same options give the same file. */
  seed?: number;
  /** Every record with a createdAt (the default), or none. */
  dated?: boolean;
  format?: "csv" | "ndjson";
  /** Customers the orders are drawn from (default: a third of the records, about three orders each). */
  customers?: number;
  /** Share of records `/identify` refuses (an invalid email, nothing at all); default 0.005. */
  invalid?: number;
};

const START = Date.UTC(2022, 0, 1);
const SPAN_MS = 3 * 365 * 86_400_000;

type Row = { email?: string; phoneNumber?: string; createdAt?: string };

/** The records of a history file, in file order. */
export function* historyRecords(options: HistoryOptions): Generator<Row> {
  const { records, seed = 1, dated = true, invalid = 0.005 } = options;
  const next = seededRandom(seed);
  const customers = Math.max(1, options.customers ?? Math.ceil(records / 3));
  const email = (c: number) => (next() < 0.8 ? `customer${c}@shop.example` : `c${c}.alt@mail.example`);
  const phone = (c: number) => `+4477${String(c).padStart(8, "0")}${next() < 0.85 ? "" : "9"}`;
  for (let i = 0; i < records; i++) {
    const c = Math.floor(next() * customers);
    const roll = next();
    const row: Row = {};
    if (roll < invalid) row.email = next() < 0.5 ? "not an address" : "";
    else if (roll < 0.01 + invalid) {
      // An order naming two customers: one's email with a neighbour's phone.
      row.email = email(c);
      row.phoneNumber = phone((c + 1) % customers);
    } else if (roll < 0.55) {
      row.email = email(c);
      row.phoneNumber = phone(c);
    } else if (roll < 0.8) row.email = email(c);
    else row.phoneNumber = phone(c);
    if (dated) row.createdAt = new Date(START + Math.floor(next() * SPAN_MS)).toISOString();
    yield row;
  }
}

const csvLine = (row: Row, dated: boolean) =>
  `${row.email ?? ""},${row.phoneNumber ?? ""}${dated ? `,${row.createdAt ?? ""}` : ""}\n`;

/** Writes a history file to `path`, streaming (a million records is about 60 MB). */
export async function writeHistoryFile(path: string, options: HistoryOptions): Promise<void> {
  const dated = options.dated ?? true;
  const csv = (options.format ?? "csv") === "csv";
  const out = createWriteStream(path);
  if (csv) out.write(dated ? "email,phoneNumber,createdAt\n" : "email,phoneNumber\n");
  let block = "";
  for (const row of historyRecords(options)) {
    block += csv ? csvLine(row, dated) : `${JSON.stringify(row)}\n`;
    if (block.length > 1 << 16) {
      if (!out.write(block)) await once(out, "drain");
      block = "";
    }
  }
  out.end(block);
  await once(out, "finish");
}

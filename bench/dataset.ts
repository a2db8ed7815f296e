import type { D1Handle } from "./runtime";

/**
 * Synthetic contacts, written with bulk SQL (never through HTTP) and addressable by
 * the load generator without reading them back.
 *
 * Clusters have 1 to 20 contacts: cluster k of every group of 20 has
 * 1 + (7k mod 20) rows (7 and 20 are coprime, so each size occurs once), 210 rows per
 * group, 10.5 on average. Within a cluster, row j carries email `e{(j+1)/2}` and phone
 * `p{j/2}`, so each row shares an identifier with the one before (a chain, as callers
 * build clusters one new identifier at a time); row 0 is the primary, the others its
 * secondaries. Every cluster, however large, holds `e0` and `p0`.
 */
export const MAX_CLUSTER_SIZE = 20;
const STRIDE = 7;
const SIZES = Array.from({ length: MAX_CLUSTER_SIZE }, (_, k) => 1 + ((k * STRIDE) % MAX_CLUSTER_SIZE));
/** Rows per group of MAX_CLUSTER_SIZE clusters. */
export const GROUP_ROWS = SIZES.reduce((sum, size) => sum + size, 0);
/** Offset of cluster k's first row within its group. */
const STARTS = SIZES.map((_, k) => SIZES.slice(0, k).reduce((sum, size) => sum + size, 0));

/** Preloaded rows are older than anything the bench creates, as a real backlog would be. */
const PRELOAD_TIME = "2024-01-01T00:00:00.000Z";

/** The email of identifier slot `slot` of preloaded cluster `cluster`. */
export function clusterEmail(cluster: number, slot = 0): string {
  return `c${cluster}e${slot}@pre.bench`;
}

/** The phone of identifier slot `slot` of preloaded cluster `cluster` (14 characters). */
export function clusterPhone(cluster: number, slot = 0): string {
  return `+9${String(cluster * (MAX_CLUSTER_SIZE / 2) + slot).padStart(12, "0")}`;
}

/** A run of preloaded rows: ids and cluster numbers are consecutive and unique per region. */
export type Region = {
  firstId: number;
  firstCluster: number;
  rows: number;
  /** Cluster numbers that have at least their primary row (the last group may be cut short). */
  clusters: number[];
};

/** The cluster numbers whose primary row falls within the first `rows` rows of a region. */
function clustersOf(firstCluster: number, rows: number): number[] {
  const clusters: number[] = [];
  for (let group = 0; group * GROUP_ROWS < rows; group++) {
    for (let k = 0; k < MAX_CLUSTER_SIZE; k++) {
      if (group * GROUP_ROWS + (STARTS[k] ?? 0) < rows) clusters.push(firstCluster + group * MAX_CLUSTER_SIZE + k);
    }
  }
  return clusters;
}

/** `CASE` over the offset within a group, giving the cluster's k or its first row's offset. */
function caseByOffset(offset: string, values: (k: number) => number): string {
  const arms = SIZES.map((_, k) => `WHEN ${offset} < ${(STARTS[k] ?? 0) + (SIZES[k] ?? 0)} THEN ${values(k)}`);
  return `CASE ${arms.join(" ")} END`;
}

/**
 * One statement that inserts rows [?1, ?2) of a region whose first id is ?3 and first
 * cluster ?4. The rows come from a recursive CTE inside SQLite, so a chunk of 50,000
 * rows is one small statement and one round trip. Cluster arithmetic is the same as
 * in clusterEmail / clusterPhone. The casts matter: D1 binds every JS number as REAL,
 * and REAL division would not give the group.
 */
const INSERT_CHUNK_SQL = `
WITH RECURSIVE
  seq(n) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?2),
  placed AS (
    SELECT n,
           n / ${GROUP_ROWS} AS grp,
           ${caseByOffset(`n % ${GROUP_ROWS}`, (k) => k)} AS k,
           ${caseByOffset(`n % ${GROUP_ROWS}`, (k) => STARTS[k] ?? 0)} AS start
      FROM seq
  ),
  laid AS (
    SELECT n, CAST(?4 AS INTEGER) + grp * ${MAX_CLUSTER_SIZE} + k AS cluster, n - grp * ${GROUP_ROWS} - start AS j,
           grp * ${GROUP_ROWS} + start AS head
      FROM placed
  )
INSERT INTO contacts (id, email, phoneNumber, linkedId, linkPrecedence, createdAt, updatedAt)
SELECT CAST(?3 AS INTEGER) + n,
       'c' || cluster || 'e' || ((j + 1) / 2) || '@pre.bench',
       '+9' || printf('%012d', cluster * ${MAX_CLUSTER_SIZE / 2} + j / 2),
       CASE WHEN j = 0 THEN NULL ELSE CAST(?3 AS INTEGER) + head END,
       CASE WHEN j = 0 THEN 'primary' ELSE 'secondary' END,
       '${PRELOAD_TIME}', '${PRELOAD_TIME}'
  FROM laid`;

/** Rows per INSERT: a progress step, and small enough that no statement runs for long. */
const CHUNK_ROWS = 50_000;

/** Allocates ids and cluster numbers for successive regions of one database. */
export class Dataset {
  private nextCluster = 0;
  /** Every region loaded so far, in order. */
  readonly regions: Region[] = [];

  constructor(private readonly db: D1Handle) {}

  /** Rows preloaded so far (not counting those the bench creates through HTTP). */
  get preloadedRows(): number {
    return this.regions.reduce((sum, region) => sum + region.rows, 0);
  }

  /**
   * Bulk-inserts `rows` contacts as a new region. Ids start above every id in the
   * table (the bench's own inserts included), so AUTOINCREMENT stays ahead of them.
   * `onProgress` is called after each chunk with the rows written so far.
   */
  async load(rows: number, onProgress?: (done: number) => void): Promise<Region> {
    const top = await this.db.prepare("SELECT coalesce(max(id), 0) AS id FROM contacts").first<{ id: number }>();
    const firstId = (top?.id ?? 0) + 1;
    const firstCluster = this.nextCluster;
    const statement = this.db.prepare(INSERT_CHUNK_SQL);
    for (let from = 0; from < rows; from += CHUNK_ROWS) {
      const to = Math.min(rows, from + CHUNK_ROWS);
      await statement.bind(from, to, firstId, firstCluster).run();
      onProgress?.(to);
    }
    const region: Region = { firstId, firstCluster, rows, clusters: clustersOf(firstCluster, rows) };
    this.nextCluster = firstCluster + Math.ceil(rows / GROUP_ROWS) * MAX_CLUSTER_SIZE;
    this.regions.push(region);
    return region;
  }
}

/** A progress bar on stderr (redrawn in place on a terminal, a line per quarter otherwise). */
export function progressBar(label: string, total: number): (done: number) => void {
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let lastQuarter = -1;
  return (done) => {
    const fraction = total === 0 ? 1 : done / total;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const width = 30;
    const filled = Math.round(fraction * width);
    const text = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} rows ${seconds}s`;
    if (tty) {
      process.stderr.write(`\r${text}${done >= total ? "\n" : ""}`);
    } else if (Math.floor(fraction * 4) > lastQuarter) {
      lastQuarter = Math.floor(fraction * 4);
      process.stderr.write(`${text}\n`);
    }
  };
}

/** Clusters of one size, preloaded for the merge protection workloads. */
export type UniformClusters = {
  count: number;
  /** The email of contact `j` of cluster `c` (0 <= c < count). */
  email(c: number, j?: number): string;
  /** The one phone every contact of cluster `c` holds. */
  phone(c: number): string;
};

/**
 * Bulk-inserts `count` clusters of `size` contacts each (one statement): contact j of
 * cluster c holds its own email and the cluster's one phone, so a cluster holds `size`
 * emails and 1 phone. `digit` (1-9) keeps the phones of two calls apart; ids start above
 * every id in the table.
 */
export async function loadUniform(db: D1Handle, digit: number, count: number, size: number): Promise<UniformClusters> {
  const top = await db.prepare("SELECT coalesce(max(id), 0) AS id FROM contacts").first<{ id: number }>();
  const firstId = (top?.id ?? 0) + 1;
  await db
    .prepare(
      `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < CAST(?1 AS INTEGER) * CAST(?2 AS INTEGER))
       INSERT INTO contacts (id, email, phoneNumber, linkedId, linkPrecedence, createdAt, updatedAt)
       SELECT CAST(?3 AS INTEGER) + n,
              'u' || ?4 || 'c' || (n / CAST(?2 AS INTEGER)) || 'e' || (n % CAST(?2 AS INTEGER)) || '@uniform.bench',
              '+7' || ?4 || printf('%010d', n / CAST(?2 AS INTEGER) + 1),
              CASE WHEN n % CAST(?2 AS INTEGER) = 0 THEN NULL
                   ELSE CAST(?3 AS INTEGER) + n - n % CAST(?2 AS INTEGER) END,
              CASE WHEN n % CAST(?2 AS INTEGER) = 0 THEN 'primary' ELSE 'secondary' END,
              '${PRELOAD_TIME}', '${PRELOAD_TIME}'
         FROM seq`,
    )
    .bind(count, size, firstId, String(digit))
    .run();
  return {
    count,
    email: (c, j = 0) => `u${digit}c${c}e${j}@uniform.bench`,
    phone: (c) => `+7${digit}${String(c + 1).padStart(10, "0")}`,
  };
}

import {
  clusterEmail,
  clusterPhone,
  type Dataset,
  GROUP_ROWS,
  MAX_CLUSTER_SIZE,
  type UniformClusters,
} from "./dataset";
import type { BenchRequest } from "./load";
import { seededRandom } from "./random";

export const WORKLOADS = [
  "health",
  "new",
  "repeat",
  "link",
  "merge",
  "hot",
  "mixed",
  "small-repeat",
  "small-link",
  "limit-repeat",
  "limit-link",
  "blocked",
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** The outcome the Worker should log for every request of a workload (mixed has several). */
export const EXPECTED_OUTCOME: Partial<Record<WorkloadName, string>> = {
  new: "created",
  repeat: "unchanged",
  link: "linked",
  merge: "merged",
  hot: "linked",
  "small-repeat": "unchanged",
  "small-link": "linked",
  "limit-repeat": "unchanged",
  // Every email is new to a cluster at the email limit: dropped, nothing written.
  "limit-link": "unchanged",
  // The placeholder phone is dropped: the fresh email alone makes a new contact.
  blocked: "created",
};

/** The phone `blocked` sends with every fresh email: a built-in placeholder (phone_repeated_digit). */
export const BLOCKED_PHONE = "0000000000";
/** The domain of `blocked`'s fresh emails, so a run can check what they became. */
export const BLOCKED_DOMAIN = "blocked.bench";

/** `hot` writes to this many clusters at a time, so every writer queues in a few objects. */
const HOT_CLUSTERS = 4;
/**
 * Links each hot cluster takes before the next ones take over: enough to keep its object
 * busy, few enough that no cluster nears the 50-email limit (preloaded ones hold <= 20).
 */
const LINKS_PER_HOT_CLUSTER = 25;

const HEALTH: BenchRequest = { method: "GET", path: "/health" };

function identify(email: string | null, phoneNumber: string | null): BenchRequest {
  // Built by hand: every value is ours and needs no escaping, and this runs per request.
  const fields: string[] = [];
  if (email !== null) fields.push(`"email":"${email}"`);
  if (phoneNumber !== null) fields.push(`"phoneNumber":"${phoneNumber}"`);
  return { method: "POST", path: "/identify", body: `{${fields.join(",")}}` };
}

/**
 * Pairs of untouched preloaded clusters for `merge`: each request bridges the next
 * pair (the first's email with the second's phone) and uses it up.
 */
export class MergePool {
  private clusters: number[] = [];
  private cursor = 0;
  /** Merge requests that found the pool empty (sent as `new` instead, and reported). */
  exhausted = 0;

  constructor(readonly dataset: Dataset) {}

  get remainingPairs(): number {
    return Math.floor((this.clusters.length - this.cursor) / 2);
  }

  /** Preloads enough clusters for `pairs` more merges. */
  async ensure(pairs: number, progress?: (totalRows: number) => (done: number) => void): Promise<void> {
    const missing = pairs - this.remainingPairs;
    if (missing <= 0) return;
    const rows = Math.ceil((2 * missing) / MAX_CLUSTER_SIZE) * GROUP_ROWS;
    const region = await this.dataset.load(rows, progress?.(rows));
    this.clusters = this.clusters.slice(this.cursor).concat(region.clusters);
    this.cursor = 0;
  }

  next(): [number, number] | null {
    const a = this.clusters[this.cursor];
    const b = this.clusters[this.cursor + 1];
    if (a === undefined || b === undefined) return null;
    this.cursor += 2;
    return [a, b];
  }
}

export type WorkloadTargets = {
  /** Clusters `repeat` reads (never written to by the bench). */
  repeat: readonly number[];
  /** Clusters `link` adds emails to. */
  link: readonly number[];
  /** Clusters `hot` links into, a few at a time, in order. */
  hot: readonly number[];
  merges: MergePool;
  /** One-contact clusters, beside `full`: what the merge protection costs is the gap (standard runs). */
  small?: UniformClusters;
  /** Clusters at the email limit (MAX_EMAILS_PER_CLUSTER emails, 1 phone; standard runs). */
  full?: UniformClusters;
};

/** The order of `mixed`: 10 repeat, 6 new, 3 link, 1 merge, interleaved. */
// biome-ignore format: two rows of ten read as the cycle they are
const MIXED_CYCLE = [
  "repeat", "newContact", "link", "repeat", "newContact", "repeat", "merge", "repeat", "newContact", "link",
  "repeat", "newContact", "repeat", "link", "repeat", "newContact", "repeat", "newContact", "repeat", "repeat",
] as const;

/** Makes the requests of each workload. One instance per runtime: new identifiers never repeat. */
export class Workloads {
  private fresh = 0;
  private hotSent = 0;
  private mixedSent = 0;
  private readonly random: () => number;

  constructor(
    private readonly targets: WorkloadTargets,
    seed = 1,
  ) {
    this.random = seededRandom(seed);
  }

  private pick(clusters: readonly number[]): number {
    return clusters[Math.floor(this.random() * clusters.length)] ?? 0;
  }

  /** Only identifiers nobody has sent: a new primary. */
  newContact(): BenchRequest {
    const n = ++this.fresh;
    return identify(`n${n}@new.bench`, `+8${String(n).padStart(12, "0")}`);
  }

  /** Only known identifiers of one cluster (its email, its phone, or both): nothing to write. */
  repeat(): BenchRequest {
    const cluster = this.pick(this.targets.repeat);
    const variant = Math.floor(this.random() * 3);
    return identify(variant === 1 ? null : clusterEmail(cluster), variant === 0 ? null : clusterPhone(cluster));
  }

  /** A new email with a cluster's known phone: one secondary inserted. */
  link(): BenchRequest {
    const n = ++this.fresh;
    return identify(`l${n}@link.bench`, clusterPhone(this.pick(this.targets.link)));
  }

  /**
   * A new email with the phone of one of the HOT_CLUSTERS clusters currently hot: every
   * client's write queues in the same few objects. Moves on to fresh clusters after
   * LINKS_PER_HOT_CLUSTER links each, so no cluster grows without end.
   */
  hot(): BenchRequest {
    const n = ++this.fresh;
    const sent = this.hotSent++;
    const group = Math.floor(sent / (HOT_CLUSTERS * LINKS_PER_HOT_CLUSTER));
    const cluster = this.targets.hot[(group * HOT_CLUSTERS + (sent % HOT_CLUSTERS)) % this.targets.hot.length] ?? 0;
    return identify(`h${n}@hot.bench`, clusterPhone(cluster));
  }

  /** Known identifiers of one uniform cluster (its first email, its phone, or both). */
  private repeatOf(clusters: UniformClusters | undefined): BenchRequest {
    if (!clusters) throw new Error("this run preloaded no uniform clusters (standard runs do)");
    const c = Math.floor(this.random() * clusters.count);
    const variant = Math.floor(this.random() * 3);
    return identify(variant === 1 ? null : clusters.email(c), variant === 0 ? null : clusters.phone(c));
  }

  /** A new email with the phone of one uniform cluster. */
  private linkTo(clusters: UniformClusters | undefined): BenchRequest {
    if (!clusters) throw new Error("this run preloaded no uniform clusters (standard runs do)");
    const n = ++this.fresh;
    return identify(`l${n}@link.bench`, clusters.phone(Math.floor(this.random() * clusters.count)));
  }

  /** A fresh email with a blocked placeholder phone: the phone must link nobody. */
  blocked(): BenchRequest {
    const n = ++this.fresh;
    return identify(`b${n}@${BLOCKED_DOMAIN}`, BLOCKED_PHONE);
  }

  /** One cluster's email with another's phone: the younger cluster is folded into the older. */
  merge(): BenchRequest {
    const pair = this.targets.merges.next();
    if (!pair) {
      this.targets.merges.exhausted += 1;
      return this.newContact();
    }
    return identify(clusterEmail(pair[0]), clusterPhone(pair[1]));
  }

  /**
   * 50% repeat, 30% new, 15% link, 5% merge, as a fixed cycle of 20 rather than a draw:
   * any 20 consecutive requests hold every kind, however few a slow machine sends.
   */
  mixed(): BenchRequest {
    const kind = MIXED_CYCLE[this.mixedSent++ % MIXED_CYCLE.length] ?? "repeat";
    return this[kind]();
  }

  /** The request generator of a workload. */
  generator(name: WorkloadName): () => BenchRequest {
    switch (name) {
      case "health":
        return () => HEALTH;
      case "new":
        return () => this.newContact();
      case "repeat":
        return () => this.repeat();
      case "link":
        return () => this.link();
      case "merge":
        return () => this.merge();
      case "hot":
        return () => this.hot();
      case "mixed":
        return () => this.mixed();
      case "small-repeat":
        return () => this.repeatOf(this.targets.small);
      case "small-link":
        return () => this.linkTo(this.targets.small);
      case "limit-repeat":
        return () => this.repeatOf(this.targets.full);
      case "limit-link":
        return () => this.linkTo(this.targets.full);
      case "blocked":
        return () => this.blocked();
    }
  }
}

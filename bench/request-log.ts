/**
 * Reads the Worker's one-JSON-line-per-request log (fields requestId, method, route,
 * status, durationMs, outcome, d1RoundTrips, d1Statements, objectCalls) as workerd
 * prints it, and tallies the D1 work per outcome. The log exists for production; the
 * bench only reads it, so these counts are what the service itself reports.
 */

/** One request, as the Worker logged it. */
type RequestLine = {
  route: string;
  status: number;
  outcome: string | null;
  d1RoundTrips: number;
  d1Statements: number;
  objectCalls: number;
};

/** min / mean / max of a per-request count. */
type Spread = { min: number; mean: number; max: number };

/**
 * The D1 work of every request of one outcome (created, linked, merged, unchanged;
 * `status NNN` for requests that have none, such as health checks and errors).
 */
type OutcomeUsage = {
  requests: number;
  d1RoundTrips: Spread;
  d1Statements: Spread;
  objectCalls: Spread;
};

export type UsageByOutcome = Record<string, OutcomeUsage>;

/** Parses one log message; null for anything that is not a request line (other console output). */
function parseRequestLine(message: string): RequestLine | null {
  // Cheap reject first: the Worker logs one of these per request, at full load.
  if (message.charCodeAt(0) !== 123 /* { */ || !message.includes('"requestId"')) return null;
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const line = value as Record<string, unknown>;
  if (typeof line.requestId !== "string" || typeof line.status !== "number") return null;
  // A request that never reached storage (health, refusals) logs no storage fields: it used none.
  const count = (field: unknown) => (typeof field === "number" ? field : 0);
  return {
    route: typeof line.route === "string" ? line.route : "",
    status: line.status,
    outcome: typeof line.outcome === "string" ? line.outcome : null,
    d1RoundTrips: count(line.d1RoundTrips),
    d1Statements: count(line.d1Statements),
    objectCalls: count(line.objectCalls),
  };
}

type Tally = { requests: number; sums: number[]; mins: number[]; maxs: number[] };
const FIELDS = ["d1RoundTrips", "d1Statements", "objectCalls"] as const;

/** Collects request lines as the runtime delivers them; `take()` hands over a window's worth. */
export class RequestLog {
  private tallies = new Map<string, Tally>();
  private count = 0;
  /** Request lines seen since the runtime started: 0 means the Worker does not log them (yet). */
  total = 0;
  /** Lines at level error (e.g. "storage or coordination failed"), kept for the report. */
  readonly errors: string[] = [];

  accept(level: string, message: string): void {
    if (level === "error" && this.errors.length < 20) this.errors.push(message);
    const line = parseRequestLine(message);
    if (!line) return;
    this.count += 1;
    this.total += 1;
    // Requests without an outcome (health, errors) are tallied apart, by status.
    const key = line.outcome ?? `status ${line.status}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { requests: 0, sums: [0, 0, 0], mins: [Infinity, Infinity, Infinity], maxs: [0, 0, 0] };
      this.tallies.set(key, tally);
    }
    tally.requests += 1;
    FIELDS.forEach((field, i) => {
      const value = line[field];
      tally.sums[i] = (tally.sums[i] ?? 0) + value;
      tally.mins[i] = Math.min(tally.mins[i] ?? Infinity, value);
      tally.maxs[i] = Math.max(tally.maxs[i] ?? 0, value);
    });
  }

  /**
   * Waits until `expected` request lines have arrived since the last `take()` (stdout
   * lags the responses a little), or gives up after `timeoutMs`; at once if the Worker
   * has never logged a request line.
   */
  async settle(expected: number, timeoutMs = 2_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.total > 0 && this.count < expected && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The usage per outcome since the last call, and starts a new window. */
  take(): UsageByOutcome {
    const usage: UsageByOutcome = {};
    for (const [outcome, tally] of this.tallies) {
      const spread = (i: number): Spread => ({
        min: tally.mins[i] ?? 0,
        mean: (tally.sums[i] ?? 0) / tally.requests,
        max: tally.maxs[i] ?? 0,
      });
      usage[outcome] = {
        requests: tally.requests,
        d1RoundTrips: spread(0),
        d1Statements: spread(1),
        objectCalls: spread(2),
      };
    }
    this.tallies = new Map();
    this.count = 0;
    return usage;
  }
}

/** Adds two windows' usage together (e.g. every cell of a run, for the summary). */
export function mergeUsage(a: UsageByOutcome, b: UsageByOutcome): UsageByOutcome {
  const merged: UsageByOutcome = { ...a };
  for (const [outcome, more] of Object.entries(b)) {
    const base = merged[outcome];
    if (!base) {
      merged[outcome] = more;
      continue;
    }
    const requests = base.requests + more.requests;
    const combine = (x: Spread, y: Spread): Spread => ({
      min: Math.min(x.min, y.min),
      mean: (x.mean * base.requests + y.mean * more.requests) / requests,
      max: Math.max(x.max, y.max),
    });
    merged[outcome] = {
      requests,
      d1RoundTrips: combine(base.d1RoundTrips, more.d1RoundTrips),
      d1Statements: combine(base.d1Statements, more.d1Statements),
      objectCalls: combine(base.objectCalls, more.objectCalls),
    };
  }
  return merged;
}

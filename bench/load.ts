import { Pool } from "undici";

/** One request of a workload. `body` is sent as-is (already JSON). */
export type BenchRequest = { method: "GET" | "POST"; path: string; body?: string };

export type LoadOptions = {
  /** Origin of the Worker's socket. */
  url: URL;
  /** Requests in flight at once, each on its own kept-alive connection. */
  concurrency: number;
  /** Run before measuring (JIT, connection setup, object start-up), not counted. */
  warmupMs: number;
  /** The measured window. */
  durationMs: number;
  /** Sent with every request. */
  headers: Record<string, string>;
  /** Produces the next request; called once per request, so it must be cheap. */
  next: () => BenchRequest;
};

export type LoadResult = {
  /** Successful (2xx) requests that started and ended inside the measured window. */
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  /** Requests started in the window that failed: non-2xx status, or no response at all. */
  errors: number;
  errorsByStatus: Record<string, number>;
  /** Every request sent, warm-up and drain included (to match against the request log). */
  sent: number;
};

/** A growable array of doubles: one allocation per doubling, not one per sample. */
class Samples {
  private data = new Float64Array(1 << 14);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** The nearest-rank percentile of sorted samples. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * Closed-loop load: `concurrency` clients each send a request, wait for the whole
 * response, and send the next, for warm-up plus the measured window. The generator
 * shares the machine's cores with workerd, so it does as little as it can per request:
 * undici's pool (no fetch/WHATWG wrappers), bodies discarded unread, latencies into a
 * preallocated typed array.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { concurrency, headers, next } = options;
  const pool = new Pool(options.url.origin, {
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const latencies = new Samples();
  const errorsByStatus: Record<string, number> = {};
  let errors = 0;
  let sent = 0;

  const startedAt = performance.now();
  const measureFrom = startedAt + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;

  const client = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const request = next();
      const t0 = performance.now();
      let status: number;
      try {
        const response = await pool.request({
          method: request.method,
          path: request.path,
          headers,
          body: request.body,
        });
        status = response.statusCode;
        await response.body.dump();
      } catch {
        status = 0;
      }
      const t1 = performance.now();
      sent += 1;
      if (t0 < measureFrom) continue;
      if (status >= 200 && status < 300) {
        if (t1 <= stopAt) latencies.push(t1 - t0);
      } else {
        errors += 1;
        const key = status === 0 ? "no response" : String(status);
        errorsByStatus[key] = (errorsByStatus[key] ?? 0) + 1;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    await pool.close();
  }

  const sorted = latencies.sorted();
  let sum = 0;
  for (const value of sorted) sum += value;
  const seconds = options.durationMs / 1000;
  return {
    requests: sorted.length,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    latencyMs: {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      mean: sorted.length === 0 ? 0 : sum / sorted.length,
      max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
    },
    errors,
    errorsByStatus,
    sent,
  };
}

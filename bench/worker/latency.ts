/**
 * The Worker the latency model serves (`npm run bench -- --latency`), built by the bench
 * instead of src/index.ts: the real Worker and the real ClusterReconciler, with a delay
 * around every call to a binding, as the hops of a global deployment would add. Nothing
 * here is part of the production Worker.
 *
 * Each request names its hops' round-trip times in the `Bench-Delays` header (JSON of
 * `HopDelays`); a request without it runs with none. An object's round trips to D1 take
 * `BENCH_OBJECT_D1_MS` (a binding the bench sets): objects sit beside the database.
 */

import { ClusterReconciler as Reconciler } from "../../src/durable/reconciler";
import worker from "../../src/index";

export * from "../../src/index";

/** Round-trip times in milliseconds, one per hop of a request. */
type HopDelays = {
  /** Caller to the Worker (the Cloudflare location nearest the caller). */
  callerWorker: number;
  /** Worker to D1's primary. */
  workerPrimary: number;
  /** Worker to the nearest D1 read replica. */
  workerReplica: number;
  /** Worker to a Durable Object. */
  workerObject: number;
};

const HOPS: readonly (keyof HopDelays)[] = ["callerWorker", "workerPrimary", "workerReplica", "workerObject"];

type BenchEnv = Env & { BENCH_OBJECT_D1_MS?: string };

const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

function hopDelays(header: string | null): HopDelays | undefined {
  if (header === null) return undefined;
  const parsed: unknown = JSON.parse(header);
  if (typeof parsed !== "object" || parsed === null) throw new Error("Bench-Delays must be a JSON object");
  const delays = parsed as Record<string, unknown>;
  for (const hop of HOPS) {
    if (typeof delays[hop] !== "number") throw new Error(`Bench-Delays lacks a number for ${hop}`);
  }
  return delays as HopDelays;
}

/** The real object behind each wrapper, so that wrapped statements can be batched. */
const targets = new WeakMap<object, object>();
const unwrap = (value: unknown): unknown =>
  typeof value === "object" && value !== null ? (targets.get(value) ?? value) : value;

/**
 * `target` with every call that reaches the remote end (`sends`) taking `ms` more: half
 * before, half after, as a round trip would. Objects returned by other calls (a
 * session, a prepared or bound statement, a stub) are wrapped the same way, with the
 * delay `childDelay` picks for them (by default their parent's).
 */
function delayed<T extends object>(
  target: T,
  ms: number,
  sends: (name: string) => boolean,
  childDelay: (name: string, args: unknown[], ms: number) => number = (_name, _args, parent) => parent,
): T {
  const proxy = new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function" || typeof property !== "string" || property === "then") return value;
      return (...args: unknown[]) => {
        const real = args.map(unwrap);
        if (sends(property)) {
          return (async () => {
            await sleep(ms / 2);
            const result: unknown = await Reflect.apply(value, object, real);
            await sleep(ms / 2);
            return result;
          })();
        }
        const result: unknown = Reflect.apply(value, object, real);
        return (typeof result === "object" || typeof result === "function") && result !== null
          ? delayed(result, childDelay(property, args, ms), sends, childDelay)
          : result;
      };
    },
  });
  targets.set(proxy, target);
  return proxy;
}

const D1_SENDS = new Set(["first", "all", "run", "raw", "batch", "exec"]);

/** The D1 binding, its round trips taking `primary`, or `replica` in a session that may use one. */
function delayedD1(d1: D1Database, primary: number, replica: number): D1Database {
  return delayed(
    d1,
    primary,
    (name) => D1_SENDS.has(name),
    (name, args, parent) => (name === "withSession" ? (args[0] === "first-primary" ? primary : replica) : parent),
  );
}

/** The object namespace, every call on a stub (an RPC to the object) taking `ms`. */
function delayedObjects(namespace: Env["RECONCILER"], ms: number): Env["RECONCILER"] {
  // What the namespace itself does is local (ids, stubs); what a stub does is an RPC.
  const local = new Set(["get", "getByName", "idFromName", "idFromString", "newUniqueId", "jurisdiction"]);
  return delayed(namespace, ms, (name) => !local.has(name));
}

export default {
  async fetch(request, env, ctx) {
    const delays = hopDelays(request.headers.get("bench-delays"));
    if (delays === undefined) return worker.fetch(request, env, ctx);
    const modelled: Env = {
      ...env,
      DB: delayedD1(env.DB, delays.workerPrimary, delays.workerReplica),
      RECONCILER: delayedObjects(env.RECONCILER, delays.workerObject),
    };
    await sleep(delays.callerWorker / 2);
    const response = await worker.fetch(request, modelled, ctx);
    await sleep(delays.callerWorker / 2);
    return response;
  },
} satisfies ExportedHandler<Env>;

/** The real object, its round trips to D1 taking `BENCH_OBJECT_D1_MS`. */
export class ClusterReconciler extends Reconciler {
  constructor(ctx: DurableObjectState, env: BenchEnv) {
    const ms = Number(env.BENCH_OBJECT_D1_MS ?? 0);
    super(ctx, { ...env, DB: delayedD1(env.DB, ms, ms) });
  }
}

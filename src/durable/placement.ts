import { parseLocationHint } from "./location-hint";

// The stubs' types come from the bindings' (worker-configuration.d.ts), not from importing
// the object classes: the reconciler addresses the dispatcher through here, so an import of
// its class would be a loop.
type ReconcilerStub = ReturnType<Env["RECONCILER"]["getByName"]>;
type DispatcherStub = ReturnType<Env["DISPATCHER"]["getByName"]>;

/**
 * The `locationHint` of `RECONCILER_LOCATION_HINT`, undefined when it is empty.
 * @throws Error when it names no region (see parseLocationHint).
 */
export function reconcilerLocationHint(env: Env): DurableObjectLocationHint | undefined {
  return parseLocationHint(env.RECONCILER_LOCATION_HINT);
}

/**
 * The stub of the ClusterReconciler named `name`: every place that addresses an
 * object goes through here. An object is created where its first caller's hint says
 * (a hint only matters on creation), so with the hint set to the D1 database's region
 * each object's round trips to the primary stay inside that region.
 */
export function reconcilerStub(env: Env, name: string): ReconcilerStub {
  const locationHint = reconcilerLocationHint(env);
  return locationHint === undefined ? env.RECONCILER.getByName(name) : env.RECONCILER.getByName(name, { locationHint });
}

/** The one WebhookDispatcher: a single instance, so that deliveries are strictly ordered. */
const DISPATCHER_NAME = "webhooks";

/**
 * The stub of the WebhookDispatcher, created near D1 like the reconcilers (it reads the
 * events there). A misconfigured hint falls back to no hint: delivery never fails over it.
 */
export function dispatcherStub(env: Env): DispatcherStub {
  let locationHint: DurableObjectLocationHint | undefined;
  try {
    locationHint = reconcilerLocationHint(env);
  } catch {
    locationHint = undefined;
  }
  return env.DISPATCHER.getByName(DISPATCHER_NAME, locationHint === undefined ? undefined : { locationHint });
}

import type { DeliveryStatus } from "../contract/delivery";
import { noUsage } from "../db/metered";
import { dispatcherStub } from "../durable/placement";
import { unavailable } from "./owner-answers";
import type { UseCaseResult } from "./result";

/**
 * Where the push of the change feed stands, as the WebhookDispatcher keeps it (one call).
 * @throws HttpError 503 when the object or D1 cannot be reached.
 */
export async function deliveryStatus(env: Env): Promise<UseCaseResult<DeliveryStatus>> {
  let answer: DeliveryStatus;
  try {
    answer = await dispatcherStub(env).status();
  } catch (err) {
    throw unavailable(String(err), "webhook dispatcher unreachable");
  }
  // The object's one count of pending events is not metered: it is no request's storage work.
  return { answer, d1: noUsage(), objectCalls: 1, bookmark: null, ignored: [] };
}

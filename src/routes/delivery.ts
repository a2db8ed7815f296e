import { deliveryStatus } from "../usecases/delivery";
import { respond } from "./respond";

/**
 * `GET /events/delivery` (admin): the receiver's origin, the last acknowledged cursor, the
 * events pending, the last error and the next attempt's time.
 */
export async function getDelivery(request: Request, env: Env): Promise<Response> {
  return respond(request, await deliveryStatus(env));
}

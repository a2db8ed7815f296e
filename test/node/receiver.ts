import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import { decodeCursor } from "../../src/contract/cursor";

/** One POST the receiver got: its headers' id, its events' ids, and what it answered (0: nothing). */
export type Received = { webhookId: string; eventIds: number[]; status: number; at: number };

/**
 * A webhook receiver on 127.0.0.1 for fault tests and the bench: verifies each delivery
 * with `standardwebhooks`, records it, and answers as scripted: `failNext` deliveries
 * answer 500, `hangNext` are never answered (the dispatcher's 10 s timeout ends them),
 * the rest 204. `applied` is what a consumer deduplicating by event id keeps, in receipt
 * order; `firstSeen` when each event id first arrived (epoch ms).
 */
export class TestReceiver {
  readonly received: Received[] = [];
  readonly applied: number[] = [];
  readonly firstSeen = new Map<number, number>();
  failNext = 0;
  hangNext = 0;
  /** Deliveries whose signature did not verify (answered 401). */
  forged = 0;
  private server: Server | undefined;
  private readonly hung = new Set<ServerResponse>();
  private readonly webhook: Webhook;

  constructor(secret: string) {
    this.webhook = new Webhook(secret);
  }

  /** Listens on `port` (0: any free one); answers the port. */
  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    this.server = server;
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");
    return address.port;
  }

  /** Stops listening and drops every connection, hung ones included: the receiver is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  }

  /** Requests held unanswered right now. */
  get hanging(): number {
    return this.hung.size;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(",") : (value ?? ""),
      ]),
    );
    let payload: { events: { id: string }[] };
    try {
      payload = this.webhook.verify(body, headers) as typeof payload;
    } catch {
      this.forged += 1;
      res.writeHead(401).end();
      return;
    }
    const at = Date.now();
    const eventIds = payload.events.map((event) => decodeCursor(event.id) ?? -1);
    const entry: Received = { webhookId: headers["webhook-id"] ?? "", eventIds, status: 0, at };
    this.received.push(entry);
    if (this.hangNext > 0) {
      this.hangNext -= 1;
      this.hung.add(res);
      res.on("close", () => this.hung.delete(res));
      return;
    }
    if (this.failNext > 0) {
      this.failNext -= 1;
      entry.status = 500;
      res.writeHead(500).end();
      return;
    }
    // A consumer applies each event once, whatever the number of deliveries carrying it.
    for (const id of eventIds) {
      if (this.firstSeen.has(id)) continue;
      this.firstSeen.set(id, at);
      this.applied.push(id);
    }
    entry.status = 204;
    res.writeHead(204).end();
  }
}

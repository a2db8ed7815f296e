/**
 * A webhook receiver for the change feed, to copy: verifies each delivery with the
 * `standardwebhooks` library, applies each event once (deliveries are at least once:
 * deduplicate by event id) and keeps a mirror of who is who: contact id -> primary id.
 *
 *   WEBHOOK_SECRET=whsec_... PORT=8788 npx tsx examples/webhook-receiver.ts
 *   # then run the service with WEBHOOK_URL=http://127.0.0.1:8788/ and the same secret
 *   curl http://127.0.0.1:8788/mirror    # the mirror, as JSON
 *
 * A real consumer keeps `mirror` and `seen` in its own database, updated in one
 * transaction per delivery, and answers 2xx only after it committed.
 */
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

type Event = { id: string; kind: string; primaryContactId: number; contactIds: number[] };

const secret = process.env.WEBHOOK_SECRET;
if (secret === undefined) throw new Error("set WEBHOOK_SECRET (whsec_...), as the service has it");
const webhook = new Webhook(secret);
const mirror = new Map<number, number>();
const seen = new Set<string>();

/** The contract's mirror rule, for one event in feed order. */
function apply(event: Event): void {
  const { kind, primaryContactId: primary, contactIds } = event;
  if (kind === "erased") {
    for (const id of contactIds) mirror.delete(id);
  } else if (kind === "merged") {
    // The absorbed primaries, and every contact that maps to one of them, follow the survivor.
    const absorbed = new Set(contactIds);
    for (const [id, root] of mirror) if (absorbed.has(root)) mirror.set(id, primary);
    for (const id of contactIds) mirror.set(id, primary);
  } else {
    // created, linked, split, unmerged: each listed contact is now in this primary's cluster.
    for (const id of contactIds) mirror.set(id, primary);
  }
}

const server = createServer(async (req, res) => {
  if (req.method === "GET" && req.url === "/mirror") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Object.fromEntries(mirror)));
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
  let events: Event[];
  try {
    ({ events } = webhook.verify(Buffer.concat(chunks).toString("utf8"), headers) as { events: Event[] });
  } catch {
    res.writeHead(401).end();
    return;
  }
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    apply(event);
  }
  res.writeHead(204).end();
});

const port = Number(process.env.PORT ?? 8788);
server.listen(port, "127.0.0.1", () => console.log(`webhook receiver on http://127.0.0.1:${port}/`));

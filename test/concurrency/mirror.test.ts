import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCursor } from "../../src/contract/cursor";
import type { IdentifyResponse } from "../../src/domain/contact";
import { applyEvent, feedPage, type Mirror, readToEnd } from "../feed-mirror";
import { callAsAdmin, postIdentify, unique } from "../helpers";

// The mirror property of the change feed (docs/feed.md): a consumer that applies every event,
// in feed order, to an empty map holds exactly what GET /contacts/{id} answers for every live
// contact, and no other contact, after any mix of writes (identify, erase, delete, unmerge),
// concurrent ones included.

type Values = { email?: string; phoneNumber?: string };
type Op =
  | { kind: "identify"; body: Values }
  | { kind: "erase"; body: Values }
  | { kind: "delete"; pick: number }
  | { kind: "unmerge"; pick: number }
  | { kind: "together"; ops: Op[] };

/** A few emails and phones per run, so that requests share them: merges, splits and erasures. */
function values(run: string) {
  const stamp = String(Date.now()).slice(-6);
  return {
    emails: Array.from({ length: 3 }, (_, i) => `${run}-${i}@mirror.io`),
    phones: Array.from(
      { length: 4 },
      (_, i) => `+7${stamp}${run.length}${i}${(run.charCodeAt(run.length - 1) % 90) + 10}`,
    ),
  };
}

function opArbitrary(emails: string[], phones: string[]): fc.Arbitrary<Op> {
  const email = fc.constantFrom(...emails);
  const phone = fc.constantFrom(...phones);
  const body: fc.Arbitrary<Values> = fc.oneof(
    fc.record({ email }),
    fc.record({ phoneNumber: phone }),
    fc.record({ email, phoneNumber: phone }),
    fc.record({ email, phoneNumber: phone }),
  );
  const single: fc.Arbitrary<Op> = fc.oneof(
    { weight: 10, arbitrary: body.map((b): Op => ({ kind: "identify", body: b })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.record({ email }), fc.record({ phoneNumber: phone }))
        .map((b): Op => ({ kind: "erase", body: b })),
    },
    { weight: 1, arbitrary: fc.nat(50).map((pick): Op => ({ kind: "delete", pick })) },
    { weight: 2, arbitrary: fc.nat(50).map((pick): Op => ({ kind: "unmerge", pick })) },
  );
  return fc.oneof(
    { weight: 3, arbitrary: single },
    {
      weight: 1,
      arbitrary: fc.array(single, { minLength: 2, maxLength: 4 }).map((ops): Op => ({ kind: "together", ops })),
    },
  );
}

/**
 * A start that writes every kind, whatever follows: two merges (each with its bridge), an
 * unmerge of one of them, an erasure that the other relied on (erased, split), a deletion.
 */
function everyKind(emails: string[], phones: string[]): Op[] {
  const [e0 = "", e1 = "", e2 = ""] = emails;
  const [p0 = "", p1 = "", p2 = ""] = phones;
  return [
    { kind: "identify", body: { email: e0, phoneNumber: p0 } },
    { kind: "identify", body: { email: e1, phoneNumber: p1 } },
    { kind: "identify", body: { email: e0, phoneNumber: p1 } },
    { kind: "identify", body: { email: e2, phoneNumber: p2 } },
    { kind: "identify", body: { email: e2, phoneNumber: p0 } },
    { kind: "unmerge", pick: -1 },
    { kind: "erase", body: { phoneNumber: p0 } },
    { kind: "delete", pick: -1 },
  ];
}

/** Runs one operation (a group concurrently); records every contact id an answer shows. */
async function run(op: Op, seen: Set<number>): Promise<void> {
  const note = (answer: IdentifyResponse) => {
    seen.add(answer.primaryContactId);
    for (const id of answer.secondaryContactIds) seen.add(id);
  };
  switch (op.kind) {
    case "together":
      await Promise.all(op.ops.map((inner) => run(inner, seen)));
      return;
    case "identify": {
      const res = await postIdentify(op.body);
      // 503: a cluster too busy under the concurrent group; nothing written, nothing to mirror.
      expect([200, 503]).toContain(res.status);
      if (res.status === 200) note(await res.json<IdentifyResponse>());
      return;
    }
    case "erase": {
      const res = await callAsAdmin("/erase", { method: "POST", body: JSON.stringify(op.body) });
      expect([200, 404, 503]).toContain(res.status);
      if (res.status === 200)
        for (const cluster of (await res.json<{ clusters: IdentifyResponse[] }>()).clusters) note(cluster);
      return;
    }
    case "delete": {
      const id = pickSeen(seen, op.pick);
      if (id === undefined) return;
      const res = await callAsAdmin(`/contacts/${id}`, { method: "DELETE" });
      expect([200, 404, 503]).toContain(res.status);
      return;
    }
    case "unmerge": {
      // Undo one bridge of a seen contact's cluster, found as an operator would: in its graph.
      const id = pickSeen(seen, op.pick);
      if (id === undefined) return;
      const graph = await callAsAdmin(`/contacts/${id}/graph`);
      if (graph.status !== 200) return;
      const { links } = await graph.json<{ links: { via: string; bridgeId?: number }[] }>();
      const bridgeId = links.find((link) => link.via === "bridge")?.bridgeId;
      if (bridgeId === undefined) return;
      const res = await callAsAdmin(`/contacts/${id}/unmerge`, { method: "POST", body: JSON.stringify({ bridgeId }) });
      // 404/409: a concurrent write removed the bridge, or it no longer splits anything.
      expect([200, 404, 409, 503]).toContain(res.status);
      if (res.status === 200)
        for (const cluster of (await res.json<{ clusters: IdentifyResponse[] }>()).clusters) note(cluster);
    }
  }
}

/** One of the contacts seen so far, by a generated index (-1: the latest). */
function pickSeen(seen: ReadonlySet<number>, pick: number): number | undefined {
  const known = [...seen];
  return pick < 0 ? known.at(-1) : known[pick % Math.max(known.length, 1)];
}

/** Holds the mirror against the service: every contact seen, and every live contact stored. */
async function expectMirrored(mirror: Mirror, seen: ReadonlySet<number>): Promise<void> {
  const { results } = await env.DB.prepare("SELECT id FROM contacts WHERE deletedAt IS NULL ORDER BY id").all<{
    id: number;
  }>();
  expect([...mirror.keys()].sort((a, b) => a - b)).toEqual(results.map((row) => row.id));
  for (const id of new Set([...seen, ...mirror.keys()])) {
    const res = await callAsAdmin(`/contacts/${id}`);
    if (res.status === 404) {
      expect(mirror.has(id), `contact ${id} is gone but mirrored`).toBe(false);
      continue;
    }
    expect(res.status).toBe(200);
    const { primaryContactId } = await res.json<IdentifyResponse>();
    expect(mirror.get(id), `contact ${id}`).toBe(primaryContactId);
  }
}

describe("the change feed's mirror property", () => {
  it("holds after random sequences of identify, erase, delete and unmerge, some concurrent", {
    timeout: 240_000,
  }, async () => {
    // One consumer for the whole file: it starts from an empty map and the first event.
    const mirror: Mirror = new Map();
    const seen = new Set<number>();
    const kinds = new Set<string>();
    let cursor: string | undefined;
    const runs = fc.sample(
      fc.constant(null).chain(() => {
        const { emails, phones } = values(unique("m"));
        return fc
          .array(opArbitrary(emails, phones), { minLength: 10, maxLength: 20 })
          .map((ops) => [...everyKind(emails, phones), ...ops]);
      }),
      { numRuns: 5, seed: 20_261_202 },
    );
    for (const ops of runs) {
      for (const op of ops) await run(op, seen);
      const { events, next } = await readToEnd(cursor, 25);
      for (const event of events) {
        applyEvent(mirror, event);
        kinds.add(event.kind);
      }
      cursor = next;
      await expectMirrored(mirror, seen);
    }
    // Every kind was written (everyKind sees to it), and mirrored.
    expect([...kinds].sort()).toEqual(["created", "erased", "linked", "merged", "split", "unmerged"]);
  });

  it("pages while writes commit between pages: no event missed, none repeated", { timeout: 120_000 }, async () => {
    const { next: start } = await readToEnd(undefined, 1000);
    const tag = unique("pg");
    const writes = Array.from({ length: 24 }, (_, i) => ({
      email: `${tag}-${i % 8}@pages.io`,
      phoneNumber: `+6${tag.length}${i % 5}${String(Date.now()).slice(-7)}`,
    }));
    const read: string[] = [];
    let cursor = start;
    // Writers keep committing while the consumer pages with next, three events at a time.
    const writing = (async () => {
      for (const body of writes) expect([200, 503]).toContain((await postIdentify(body)).status);
    })();
    let done = false;
    void writing.then(() => {
      done = true;
    });
    while (!done) {
      const page = await feedPage(cursor, 3);
      read.push(...page.events.map((event) => event.id));
      cursor = page.next;
    }
    // The consumer did read while the writes went on, not only after them.
    expect(read.length).toBeGreaterThan(0);
    await writing;
    const rest = await readToEnd(cursor, 3);
    read.push(...rest.events.map((event) => event.id));

    const ids = read.map((id) => decodeCursor(id) ?? -1);
    const after = decodeCursor(start ?? "") ?? 0;
    const { results } = await env.DB.prepare("SELECT id FROM contact_events WHERE id > ? ORDER BY id")
      .bind(after)
      .all<{ id: number }>();
    expect(results.length).toBeGreaterThan(0);
    expect(ids).toEqual(results.map((row) => row.id));
  });
});

/**
 * Plans a whole import offline: each record, in order, through the service's own planner
 * (planReconciliation) on an in-memory model of an empty database, with ids given as
 * SQLite's AUTOINCREMENT would give them. Pure (no I/O, no Node API), so that the
 * equivalence test runs it inside workerd.
 */
import type { Ignored } from "../../src/domain/blocking";
import type { ContactRow, Identifiers } from "../../src/domain/contact";
import { type ClusterLimits, maxContacts } from "../../src/domain/limits";
import { planReconciliation, type ReconciliationPlan } from "../../src/domain/reconcile";
import { NumberColumn } from "./columns";

/** One accepted record: what `/identify` would reconcile, and when (epoch milliseconds). */
export type OrderedRecord = {
  line: number;
  who: Identifiers;
  at: number;
  ignored: readonly Ignored[];
};

/** A contact as stored: ContactRow plus the time of its last change. */
export type PlannedContact = ContactRow & { updatedAt: string };

/** A bridge as stored; `line` is the record that made it (its request id derives from it). */
export type PlannedBridge = {
  id: number;
  emailContactId: number;
  phoneContactId: number;
  createdAt: string;
  line: number;
};

/** An event as stored; `line` is the record that made it. */
export type PlannedEvent = {
  id: number;
  at: string;
  kind: EventKind;
  primaryContactId: number;
  contactIds: readonly number[];
  bridgeId: number | null;
  line: number;
};

type EventKind = "created" | "linked" | "merged";
const EVENT_KINDS: readonly EventKind[] = ["created", "linked", "merged"];

/** The stored form of a time: `toISOString`, as the service writes and parseCreatedAt gives. */
const iso = (ms: number) => new Date(ms).toISOString();

/*
 * The rows an import writes, held by column (contact `id` at position `id - 1`, likewise
 * bridges and events) and read back one row at a time: a million contacts and events as
 * objects took about 250 MB of heap, as columns under 100 MB. A 0 in an id column is NULL.
 */

/** The contacts of a plan. */
export class PlannedContacts {
  private readonly emails: (string | null)[] = [];
  private readonly phones: (string | null)[] = [];
  private readonly linkedIds = new NumberColumn(Int32Array);
  private readonly created = new NumberColumn(Float64Array);
  private readonly updated = new NumberColumn(Float64Array);

  get length(): number {
    return this.emails.length;
  }

  /** Appends a contact made at `at`; returns its id. */
  add(email: string | null, phoneNumber: string | null, linkedId: number | null, at: number): number {
    this.emails.push(email);
    this.phones.push(phoneNumber);
    this.linkedIds.push(linkedId ?? 0);
    this.created.push(at);
    this.updated.push(at);
    return this.emails.length;
  }

  /** Makes contact `id` a secondary of `primaryId`, or a primary (null), at `at`. */
  relink(id: number, primaryId: number | null, at: number): void {
    this.linkedIds.set(id - 1, primaryId ?? 0);
    this.updated.set(id - 1, at);
  }

  /** The primary contact `id` is linked to, or null for a primary. */
  linkedId(id: number): number | null {
    return this.linkedIds.get(id - 1) || null;
  }

  /** Contact `id` as stored. A primary is the contact linked to nothing. */
  row(id: number): PlannedContact {
    if (id < 1 || id > this.length) throw new Error(`no contact ${id}`);
    const linkedId = this.linkedId(id);
    return {
      id,
      email: this.emails[id - 1] ?? null,
      phoneNumber: this.phones[id - 1] ?? null,
      linkedId,
      linkPrecedence: linkedId === null ? "primary" : "secondary",
      createdAt: iso(this.created.get(id - 1)),
      updatedAt: iso(this.updated.get(id - 1)),
    };
  }
}

/** The bridges of a plan. */
export class PlannedBridges {
  private readonly emailContacts = new NumberColumn(Int32Array);
  private readonly phoneContacts = new NumberColumn(Int32Array);
  private readonly times = new NumberColumn(Float64Array);
  private readonly lines = new NumberColumn(Int32Array);

  get length(): number {
    return this.lines.length;
  }

  /** Appends a bridge; returns its id. */
  add(emailContactId: number, phoneContactId: number, at: number, line: number): number {
    this.emailContacts.push(emailContactId);
    this.phoneContacts.push(phoneContactId);
    this.times.push(at);
    this.lines.push(line);
    return this.lines.length;
  }

  row(id: number): PlannedBridge {
    if (id < 1 || id > this.length) throw new Error(`no bridge ${id}`);
    return {
      id,
      emailContactId: this.emailContacts.get(id - 1),
      phoneContactId: this.phoneContacts.get(id - 1),
      createdAt: iso(this.times.get(id - 1)),
      line: this.lines.get(id - 1),
    };
  }
}

/** The events of a plan. Most name one contact; a merge's several contacts are kept aside. */
export class PlannedEvents {
  private readonly kinds = new NumberColumn(Uint8Array);
  private readonly times = new NumberColumn(Float64Array);
  private readonly primaries = new NumberColumn(Int32Array);
  private readonly bridgeIds = new NumberColumn(Int32Array);
  private readonly lines = new NumberColumn(Int32Array);
  private readonly firstContacts = new NumberColumn(Int32Array);
  private readonly several = new Map<number, readonly number[]>();

  get length(): number {
    return this.lines.length;
  }

  /** Appends an event; returns its id. */
  add(event: Omit<PlannedEvent, "id" | "at">, at: number): number {
    const [first, ...others] = event.contactIds;
    if (first === undefined) throw new Error("an event names at least one contact");
    this.kinds.push(EVENT_KINDS.indexOf(event.kind));
    this.times.push(at);
    this.primaries.push(event.primaryContactId);
    this.bridgeIds.push(event.bridgeId ?? 0);
    this.lines.push(event.line);
    this.firstContacts.push(first);
    if (others.length > 0) this.several.set(this.length, [...event.contactIds]);
    return this.length;
  }

  row(id: number): PlannedEvent {
    if (id < 1 || id > this.length) throw new Error(`no event ${id}`);
    const kind = EVENT_KINDS[this.kinds.get(id - 1)];
    if (kind === undefined) throw new Error(`event ${id} has no kind`);
    return {
      id,
      at: iso(this.times.get(id - 1)),
      kind,
      primaryContactId: this.primaries.get(id - 1),
      contactIds: this.several.get(id) ?? [this.firstContacts.get(id - 1)],
      bridgeId: this.bridgeIds.get(id - 1) || null,
      line: this.lines.get(id - 1),
    };
  }
}

/** What the import did, as the summary reports it. */
export type ImportCounts = {
  applied: number;
  contactsCreated: number;
  merges: number;
  blockedIdentifiers: number;
  overLimitIdentifiers: number;
};

/** The tables an import leaves, and its counts. */
export type ImportPlan = {
  contacts: PlannedContacts;
  bridges: PlannedBridges;
  events: PlannedEvents;
  counts: ImportCounts;
};

/**
 * The database one-at-a-time `/identify` calls would build from an empty one, kept as
 * the reads of src/db see it: the first (lowest-id) holder of each value, and each
 * cluster's contacts by root. No contact is ever deleted here, and every cluster grows
 * under the limits, so a cluster's members are all its read window holds.
 */
class Model {
  readonly contacts = new PlannedContacts();
  private readonly emailHolder = new Map<string, number>();
  private readonly phoneHolder = new Map<string, number>();
  /** Root id -> its contacts' ids, ascending (the root first); a root alone has no entry. */
  private readonly members = new Map<number, number[]>();

  constructor(private readonly limits: ClusterLimits) {}

  /** The rows readTouchedClusters would answer: the first holders, their roots, each root's window. */
  touched(who: Identifiers): ContactRow[] {
    const hits = [
      who.email === undefined ? undefined : this.emailHolder.get(who.email),
      who.phoneNumber === undefined ? undefined : this.phoneHolder.get(who.phoneNumber),
    ].filter((id) => id !== undefined);
    const ids = new Set<number>(hits);
    const cut = maxContacts(this.limits) + 1;
    for (const hit of hits) {
      const root = this.contacts.linkedId(hit) ?? hit;
      ids.add(root);
      // The root's secondaries by id, cut as the SQL window cuts them.
      const secondaries = (this.members.get(root) ?? []).filter((id) => id !== root);
      for (const id of secondaries.slice(0, cut)) ids.add(id);
    }
    return [...ids].map((id) => this.contacts.row(id));
  }

  /** Applies `plan` as commitStatements writes it; returns the inserted contact's id, if any. */
  commit(plan: ReconciliationPlan, at: number): number | null {
    const primaryId = plan.primaryId;
    if (primaryId !== null && plan.promote) this.contacts.relink(primaryId, null, at);
    if (primaryId !== null && plan.absorb.length > 0) {
      const kept = this.members.get(primaryId) ?? [primaryId];
      for (const root of plan.absorb) {
        for (const id of this.members.get(root) ?? [root]) {
          this.contacts.relink(id, primaryId, at);
          kept.push(id);
        }
        this.members.delete(root);
      }
      this.members.set(
        primaryId,
        kept.sort((a, b) => a - b),
      );
    }
    if (!plan.insert) return null;
    const { email, phoneNumber, linkPrecedence, linkedId } = plan.insert;
    if ((linkPrecedence === "primary") !== (linkedId === null)) throw new Error("a primary is linked to nothing");
    const id = this.contacts.add(email, phoneNumber, linkedId, at);
    if (email !== null && !this.emailHolder.has(email)) this.emailHolder.set(email, id);
    if (phoneNumber !== null && !this.phoneHolder.has(phoneNumber)) this.phoneHolder.set(phoneNumber, id);
    if (linkedId !== null) {
      const cluster = this.members.get(linkedId);
      if (cluster) cluster.push(id);
      else this.members.set(linkedId, [linkedId, id]);
    }
    return id;
  }

  /**
   * The contact a bridge names for a value: the oldest live holder by (createdAt, id), as
   * src/db picks it. Records apply in createdAt order and ids grow, so that is the first holder.
   */
  holder(field: "email" | "phoneNumber", value: string): number {
    const id = (field === "email" ? this.emailHolder : this.phoneHolder).get(value);
    if (id === undefined) throw new Error(`a bridge names a ${field} nobody holds`);
    return id;
  }
}

/**
 * Plans `records` (already validated, screened and in apply order) into the rows an
 * empty database would hold after `/identify` received them one at a time, under `limits`.
 * Records only what the service's commit records: the same events, in the same order.
 */
export function planImport(records: Iterable<OrderedRecord>, limits: ClusterLimits): ImportPlan {
  const model = new Model(limits);
  const bridges = new PlannedBridges();
  const events = new PlannedEvents();
  const counts: ImportCounts = {
    applied: 0,
    contactsCreated: 0,
    merges: 0,
    blockedIdentifiers: 0,
    overLimitIdentifiers: 0,
  };
  for (const { who, at, line, ignored } of records) {
    counts.applied += 1;
    const plan = planReconciliation(model.touched(who), who, limits);
    for (const { reason } of [...ignored, ...plan.ignored]) {
      if (reason === "blocked") counts.blockedIdentifiers += 1;
      else if (reason === "cluster_limit") counts.overLimitIdentifiers += 1;
    }
    if (plan.outcome === "unchanged") continue;
    const inserted = model.commit(plan, at);
    // planRecords' order: the bridge, then `merged`, then `created` or `linked`.
    let bridgeId: number | null = null;
    if (plan.bridge && who.email !== undefined && who.phoneNumber !== undefined) {
      bridgeId = bridges.add(model.holder("email", who.email), model.holder("phoneNumber", who.phoneNumber), at, line);
    }
    const primaryId = plan.primaryId;
    if (primaryId !== null && plan.outcome === "merged") {
      counts.merges += 1;
      const contactIds = plan.absorb.length > 0 ? plan.absorb : [primaryId];
      events.add({ kind: "merged", primaryContactId: primaryId, contactIds, bridgeId, line }, at);
    }
    if (inserted !== null) {
      counts.contactsCreated += 1;
      const kind = primaryId === null ? "created" : "linked";
      events.add({ kind, primaryContactId: primaryId ?? inserted, contactIds: [inserted], bridgeId: null, line }, at);
    }
  }
  return { contacts: model.contacts, bridges, events, counts };
}

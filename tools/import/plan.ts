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

/** One accepted record: what `/identify` would reconcile, when, and the request id its writes record. */
export type OrderedRecord = {
  line: number;
  who: Identifiers;
  at: string;
  requestId: string;
  ignored: readonly Ignored[];
};

/** A contact as stored: ContactRow plus the time of its last change. */
export type PlannedContact = ContactRow & { updatedAt: string };

export type PlannedBridge = {
  id: number;
  emailContactId: number;
  phoneContactId: number;
  createdAt: string;
  requestId: string | null;
};

export type PlannedEvent = {
  id: number;
  at: string;
  kind: "created" | "linked" | "merged";
  primaryContactId: number;
  contactIds: number[];
  bridgeId: number | null;
  requestId: string;
};

/** What the import did, as the summary reports it. */
export type ImportCounts = {
  applied: number;
  contactsCreated: number;
  merges: number;
  blockedIdentifiers: number;
  overLimitIdentifiers: number;
};

/** The tables an import leaves, rows in id order, and its counts. */
export type ImportPlan = {
  contacts: PlannedContact[];
  bridges: PlannedBridge[];
  events: PlannedEvent[];
  counts: ImportCounts;
};

/**
 * The database one-at-a-time `/identify` calls would build from an empty one, kept as
 * the reads of src/db see it: the first (lowest-id) holder of each value, and each
 * cluster's contacts by root. No contact is ever deleted here, and every cluster grows
 * under the limits, so a cluster's members are all its read window holds.
 */
class Model {
  readonly contacts: PlannedContact[] = [];
  private readonly emailHolder = new Map<string, number>();
  private readonly phoneHolder = new Map<string, number>();
  /** Root id -> its contacts' ids, ascending (the root first). */
  private readonly members = new Map<number, number[]>();

  constructor(private readonly limits: ClusterLimits) {}

  private row(id: number): PlannedContact {
    const row = this.contacts[id - 1];
    if (!row) throw new Error(`no contact ${id}`);
    return row;
  }

  /** The rows readTouchedClusters would answer: the first holders, their roots, each root's window. */
  touched(who: Identifiers): ContactRow[] {
    const hits = [
      who.email === undefined ? undefined : this.emailHolder.get(who.email),
      who.phoneNumber === undefined ? undefined : this.phoneHolder.get(who.phoneNumber),
    ].filter((id) => id !== undefined);
    const ids = new Set<number>(hits);
    const cut = maxContacts(this.limits) + 1;
    for (const hit of hits) {
      const root = this.row(hit).linkedId ?? hit;
      ids.add(root);
      // The root's secondaries by id, cut as the SQL window cuts them.
      const secondaries = (this.members.get(root) ?? []).filter((id) => id !== root);
      for (const id of secondaries.slice(0, cut)) ids.add(id);
    }
    return [...ids].map((id) => this.row(id));
  }

  /** Applies `plan` as commitStatements writes it; returns the inserted contact's id, if any. */
  commit(plan: ReconciliationPlan, at: string): number | null {
    const primaryId = plan.primaryId;
    if (primaryId !== null && plan.promote) {
      Object.assign(this.row(primaryId), { linkPrecedence: "primary", linkedId: null, updatedAt: at });
    }
    if (primaryId !== null && plan.absorb.length > 0) {
      const kept = this.members.get(primaryId) ?? [primaryId];
      for (const root of plan.absorb) {
        for (const id of this.members.get(root) ?? []) {
          Object.assign(this.row(id), { linkPrecedence: "secondary", linkedId: primaryId, updatedAt: at });
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
    const id = this.contacts.length + 1;
    const { email, phoneNumber, linkPrecedence, linkedId } = plan.insert;
    this.contacts.push({ id, email, phoneNumber, linkPrecedence, linkedId, createdAt: at, updatedAt: at });
    if (email !== null && !this.emailHolder.has(email)) this.emailHolder.set(email, id);
    if (phoneNumber !== null && !this.phoneHolder.has(phoneNumber)) this.phoneHolder.set(phoneNumber, id);
    const root = linkedId ?? id;
    const cluster = this.members.get(root);
    if (cluster) cluster.push(id);
    else this.members.set(root, [id]);
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
  const bridges: PlannedBridge[] = [];
  const events: PlannedEvent[] = [];
  const counts: ImportCounts = {
    applied: 0,
    contactsCreated: 0,
    merges: 0,
    blockedIdentifiers: 0,
    overLimitIdentifiers: 0,
  };
  for (const { who, at, requestId, ignored } of records) {
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
      bridgeId = bridges.length + 1;
      bridges.push({
        id: bridgeId,
        emailContactId: model.holder("email", who.email),
        phoneContactId: model.holder("phoneNumber", who.phoneNumber),
        createdAt: at,
        requestId,
      });
    }
    const primaryId = plan.primaryId;
    if (primaryId !== null && plan.outcome === "merged") {
      counts.merges += 1;
      events.push({
        id: events.length + 1,
        at,
        kind: "merged",
        primaryContactId: primaryId,
        contactIds: plan.absorb.length > 0 ? plan.absorb : [primaryId],
        bridgeId,
        requestId,
      });
    }
    if (inserted !== null) {
      counts.contactsCreated += 1;
      events.push({
        id: events.length + 1,
        at,
        kind: primaryId === null ? "created" : "linked",
        primaryContactId: primaryId ?? inserted,
        contactIds: [inserted],
        bridgeId: null,
        requestId,
      });
    }
  }
  return { contacts: model.contacts, bridges, events, counts };
}

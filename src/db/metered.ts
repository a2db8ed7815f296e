import type { D1Client } from "./sessions";

/** D1 work done for one request: every round trip is a network hop in production. */
export type D1Usage = { roundTrips: number; statements: number };

export function noUsage(): D1Usage {
  return { roundTrips: 0, statements: 0 };
}

export function addUsage(total: D1Usage, more: D1Usage): D1Usage {
  return { roundTrips: total.roundTrips + more.roundTrips, statements: total.statements + more.statements };
}

/** A prepared statement that counts one round trip each time it is executed. */
class MeteredStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly usage: D1Usage,
  ) {}

  bind(...values: unknown[]): MeteredStatement {
    return new MeteredStatement(this.inner.bind(...values), this.usage);
  }

  private count(): void {
    this.usage.roundTrips += 1;
    this.usage.statements += 1;
  }

  first(column?: string) {
    this.count();
    return column === undefined ? this.inner.first() : this.inner.first(column);
  }

  all() {
    this.count();
    return this.inner.all();
  }

  run() {
    this.count();
    return this.inner.run();
  }

  raw(options?: { columnNames?: boolean }) {
    this.count();
    return options?.columnNames ? this.inner.raw({ columnNames: true }) : this.inner.raw();
  }
}

/**
 * Wraps a D1 client (the binding, a session, or the primary) so that `usage` counts the
 * round trips and statements sent through it: a batch is one round trip of several
 * statements. The counts go to the request log and to the tests that keep them low.
 */
export function meteredD1(d1: D1Client, usage: D1Usage): D1Database {
  const metered = {
    prepare: (query: string) => new MeteredStatement(d1.prepare(query), usage),
    batch: (statements: MeteredStatement[]) => {
      usage.roundTrips += 1;
      usage.statements += statements.length;
      return d1.batch(statements.map((statement) => statement.inner));
    },
  };
  // Structurally a D1Database for everything drizzle calls (prepare, bind, send, batch);
  // the overloads of the runtime's abstract classes cannot be implemented member by member.
  return metered as unknown as D1Database;
}

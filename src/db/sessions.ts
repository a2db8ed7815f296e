/**
 * Where D1 statements go. With read replication on, D1 answers a session's reads from a
 * replica; the Worker reads that way, and each Durable Object writes and reads on the primary.
 */

/** What statements are sent through: the D1 binding, one of its sessions, or `PrimaryD1`. */
export type D1Client = Pick<D1DatabaseSession, "prepare" | "batch">;

/**
 * The later of two bookmarks, or the one that is set. D1's bookmarks sort
 * lexicographically in commit order.
 */
export function laterBookmark(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a >= b ? a : b;
}

/**
 * The session of the Worker's reads. Without a bookmark it starts on the nearest
 * replica (`first-unconstrained`), which may lag the primary; given the bookmark of an
 * earlier answer, D1 serves it from a replica at least as new as that answer.
 */
export function readSession(d1: D1Database, bookmark: string | undefined): D1DatabaseSession {
  return d1.withSession(bookmark ?? "first-unconstrained");
}

/** A statement whose session is chosen when it is sent: see `PrimaryD1`. */
class PrimaryStatement {
  constructor(
    private readonly primary: PrimaryD1,
    readonly query: string,
    readonly params: unknown[] = [],
  ) {}

  bind(...values: unknown[]): PrimaryStatement {
    return new PrimaryStatement(this.primary, this.query, values);
  }

  /** This statement, prepared in `session`. */
  in(session: D1DatabaseSession): D1PreparedStatement {
    return session.prepare(this.query).bind(...this.params);
  }

  first(column?: string) {
    return this.primary.send((session) =>
      column === undefined ? this.in(session).first() : this.in(session).first(column),
    );
  }

  all() {
    return this.primary.send((session) => this.in(session).all());
  }

  run() {
    return this.primary.send((session) => this.in(session).run());
  }

  raw(options?: { columnNames?: boolean }) {
    return this.primary.send((session) =>
      options?.columnNames ? this.in(session).raw({ columnNames: true }) : this.in(session).raw(),
    );
  }
}

/**
 * D1's primary, for a Durable Object. Every round trip opens a session of its own with
 * `first-primary`: its one query goes to the primary (a session's later queries may be
 * served by a replica, which would make a re-read after a guard abort stale again).
 * `bookmark()` is the latest bookmark those round trips returned, so that a caller
 * handed it reads at or after the object's commit.
 */
export class PrimaryD1 {
  private latest: string | null = null;

  constructor(private readonly d1: D1Database) {}

  /** Sends one round trip on the primary and keeps its bookmark. */
  async send<T>(query: (session: D1DatabaseSession) => Promise<T>): Promise<T> {
    const session = this.d1.withSession("first-primary");
    const result = await query(session);
    this.latest = laterBookmark(this.latest, session.getBookmark());
    return result;
  }

  prepare(query: string): PrimaryStatement {
    return new PrimaryStatement(this, query);
  }

  batch(statements: PrimaryStatement[]) {
    return this.send((session) => session.batch(statements.map((statement) => statement.in(session))));
  }

  /** The bookmark of the latest round trip sent, null before the first. */
  bookmark(): string | null {
    return this.latest;
  }

  /** As a client for `meteredD1`/drizzle, which only prepare, bind, send and batch. */
  client(): D1Client {
    // Structurally what drizzle calls; the runtime's abstract statement class has
    // overloads that a plain class cannot implement member by member.
    return this as unknown as D1Client;
  }
}

/**
 * Work that must run in one process of a service at a time, however many replicas serve its
 * API: forwarding the log to Kafka, delivering webhooks. Correctness never rests on it (every
 * such work is at-least-once and deduplicated downstream); it keeps replicas from doing the
 * same work twice over, every time.
 */
export interface LeaderWork {
  /** Named in logs and readiness details. */
  readonly name: string;
  /** Called when this process becomes the leader. A failure gives the lease up (another replica may do better). */
  start(): Promise<void>;
  /** Called when this process stops being the leader or shuts down; resolves once the work has stopped. */
  stop(): Promise<void>;
}

/**
 * - `leader`: this process holds the lease, its works run;
 * - `standby`: connected and waiting for the lease another process holds;
 * - `contending`: not connected to what grants the lease (starting, or reconnecting with backoff);
 * - `closed`: shut down.
 */
export type LeadershipState = 'leader' | 'standby' | 'contending' | 'closed';

/** The lease one process of a service holds at a time (see LeaderWork). */
export interface Leadership {
  /**
   * Runs `work` while this process holds the lease: now if it does (resolving once started),
   * else once it gets it (resolving at once).
   */
  run(work: LeaderWork): Promise<void>;
  state(): LeadershipState;
  /** Stops the works, then lets the lease go. */
  close(): Promise<void>;
}

export const LEADERSHIP = Symbol('LEADERSHIP');

/**
 * The only process of its service (SQLite, which one machine's processes share; EventStoreDB,
 * where the registry runs as one replica): always the leader, every work starts at once and a
 * failure to start fails the caller, as it did before leadership existed.
 */
export class SoloLeadership implements Leadership {
  private readonly works: LeaderWork[] = [];
  private closed = false;

  async run(work: LeaderWork): Promise<void> {
    this.works.push(work);
    await work.start();
  }

  state(): LeadershipState {
    return this.closed ? 'closed' : 'leader';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.works.map((work) => work.stop()));
  }
}

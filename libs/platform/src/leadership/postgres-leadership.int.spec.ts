/**
 * The registry's lease against a real PostgreSQL (MRW_POSTGRES_URL; see tools/jest/global-setup.js):
 * several leaderships on one schema, as replicas of one service would hold them.
 */
import { Client } from 'pg';
import { describeWithPostgres, uniqueSchema, waitFor } from '@mrw/event-store/testing';
import { SoloLeadership, type LeaderWork } from './leadership';
import { LEASE_LOCK_CLASS, leaseLockKey, PostgresLeadership } from './postgres-leadership';

/** A work that records whether it runs, and how often it was started. */
class Recorder implements LeaderWork {
  running = false;
  starts = 0;
  constructor(
    readonly name: string,
    private readonly failStarts = 0,
  ) {}

  async start(): Promise<void> {
    this.starts += 1;
    if (this.starts <= this.failStarts) throw new Error(`${this.name} cannot start yet`);
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
  }
}

describe('SoloLeadership', () => {
  it('leads from the start: a work starts at once, and a failure to start fails the caller', async () => {
    const solo = new SoloLeadership();
    const work = new Recorder('forwarder');
    await solo.run(work);
    expect([solo.state(), work.running]).toEqual(['leader', true]);
    await expect(solo.run(new Recorder('broken', 1))).rejects.toThrow('broken cannot start yet');
    await solo.close();
    expect([solo.state(), work.running]).toEqual(['closed', false]);
  });
});

describeWithPostgres('PostgresLeadership', (url) => {
  let schema: string;
  const opened: PostgresLeadership[] = [];
  const lease = (options: { schema?: string; lease?: string } = {}): PostgresLeadership => {
    const leadership = new PostgresLeadership({
      connectionString: url,
      schema: options.schema ?? schema,
      lease: options.lease ?? 'registry',
      pingIntervalMs: 500,
      reconnect: { initialMs: 50, maxMs: 200 },
    });
    opened.push(leadership);
    return leadership;
  };

  /** The server process holding the lease's lock now, if any (what pg_locks says, not what the processes believe). */
  const holder = async (forSchema = schema, name = 'registry'): Promise<number | undefined> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::bigint AND objid = $2::bigint AND objsubid = 2`,
        [LEASE_LOCK_CLASS, leaseLockKey(forSchema, name) >>> 0],
      );
      return rows[0]?.pid;
    } finally {
      await client.end();
    }
  };

  /** Two processes on one lease, each with a work: `a` leads, `b` stands by. */
  const leaderAndStandby = async () => {
    const [a, b] = [lease(), lease()];
    const [workA, workB] = [new Recorder('a'), new Recorder('b')];
    await a.run(workA);
    await waitFor(async () => a.state() === 'leader', 10_000, 'a leading');
    await b.run(workB);
    await waitFor(async () => b.state() === 'standby', 10_000, 'b standing by');
    return { a, b, workA, workB };
  };

  beforeEach(() => {
    schema = uniqueSchema();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });

  it('runs the works in exactly one of the processes sharing a lease; the other stands by, ready', async () => {
    const { a, b, workA, workB } = await leaderAndStandby();
    expect([workA.running, workB.running]).toEqual([true, false]);
    expect(b.readiness()).toEqual({ ready: true, detail: 'standby: another registry process holds the lease' });
    expect(a.readiness()).toEqual({ ready: true, detail: 'leader of registry: runs a' });
    expect(await holder()).toEqual(expect.any(Number));
  });

  it('hands the lease over when the leader closes: its works stop before the other starts', async () => {
    const { a, b, workA, workB } = await leaderAndStandby();
    let overlapped = false;
    const watch = setInterval(() => (overlapped ||= workA.running && workB.running), 1);
    await a.close();
    await waitFor(async () => workB.running, 10_000, 'b taking over');
    clearInterval(watch);
    expect([a.state(), workA.running, b.state(), overlapped]).toEqual(['closed', false, 'leader', false]);
  });

  it('stops the works of a leader whose session the server ended, and the standby takes over', async () => {
    const { a, b, workA, workB } = await leaderAndStandby();
    const pid = await holder();
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    await waitFor(async () => workB.running && !workA.running, 10_000, 'b leading, a stopped');
    // a contends again and waits behind b.
    await waitFor(async () => a.state() === 'standby', 10_000, 'a standing by');
    expect(await holder()).not.toBe(pid);
    expect([workA.starts, workB.starts]).toEqual([1, 1]);
  });

  it('gives the lease up when a work cannot start, so another process can lead', async () => {
    const [a, b] = [lease(), lease()];
    const stubborn = new Recorder('stubborn', Number.POSITIVE_INFINITY);
    await a.run(stubborn);
    await waitFor(async () => stubborn.starts >= 1, 10_000, 'a trying to start its work');
    const healthy = new Recorder('healthy');
    await b.run(healthy);
    await waitFor(async () => healthy.running, 10_000, 'b leading after a gave up');
    expect(stubborn.running).toBe(false);
  });

  it('keeps leases of other schemas and services apart', async () => {
    const works = [new Recorder('mine'), new Recorder('other schema'), new Recorder('other service')];
    const leases = [lease(), lease({ schema: uniqueSchema() }), lease({ lease: 'webhooks' })];
    await Promise.all(leases.map((l, i) => l.run(works[i] as Recorder)));
    await waitFor(async () => works.every((w) => w.running), 10_000, 'each leading its own lease');
  });

  it('holds no connection until a work asks for the lease', async () => {
    const idle = lease();
    expect(idle.readiness()).toEqual({ ready: true, detail: 'no work needs the lease' });
    expect(await holder()).toBeUndefined();
  });
});

import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { MetricsOfProcess } from '../observability/metrics';
import type { ConnectionTaker } from './connection-dealer';

/** The message a reader sends once it serves, and the one a dealt connection arrives with. */
export const READER_READY = 'mrw:reader-ready';
export const DEALT_CONNECTION = 'mrw:connection';
/** Where a reader passes the requests it does not serve: the suite's private socket. */
export const LEADER_SOCKET_ENV = 'MRW_LEADER_SOCKET';
/** A reader's name (`reader-1`, …), the same for the reader started again in its place: its metrics' `serving_process`. */
export const READER_NAME_ENV = 'MRW_READER_NAME';
/** The suite asks a reader for its metrics, and the reader answers, with the same id. */
export const METRICS_ASKED = 'mrw:metrics-asked';
export const METRICS_ANSWERED = 'mrw:metrics-answered';
export interface MetricsMessage {
  readonly type: typeof METRICS_ASKED | typeof METRICS_ANSWERED;
  readonly id: number;
  readonly metrics?: MetricsOfProcess;
}

/** How long a scrape waits for a reader's metrics: one that does not answer in time is left out of that scrape. */
const METRICS_WAIT_MS = 2_000;

/** How long a reader that died waits before it is started again, and how long a stop waits for one. */
const RESTART_AFTER_MS = 1_000;
const STOP_WAIT_MS = 10_000;

interface Reader {
  readonly name: string;
  readonly child: ChildProcess;
  /** Scrapes waiting for this reader's metrics: answered with nothing if it goes away. */
  readonly scrapes: Set<number>;
  ready: boolean;
  /** Connections sent but not yet on their way: Node queues them one behind another. */
  readonly sending: Set<Socket>;
}

export interface ReaderProcessesOptions {
  /** The reader's entry point (`dist/apps/suite/reader.js`). */
  readonly script: string;
  readonly count: number;
  /** The suite's private socket, which readers send every other request to. */
  readonly leaderSocket: string;
  readonly log: { log(message: string): void; warn(message: string): void };
}

/**
 * The reader processes the suite starts when several processes serve its port. Each is a
 * connection taker once it has said it is ready; one that dies is started again after a second
 * (its connections are lost: clients reconnect and are dealt elsewhere). When the suite stops,
 * its readers stop first; when the suite dies, its readers see the channel close and exit.
 */
export class ReaderProcesses {
  private readonly readers = new Set<Reader>();
  private stopping = false;
  /** Scrapes waiting for readers' metrics, by id. */
  private readonly scrapes = new Map<number, (metrics: MetricsOfProcess) => void>();
  private nextScrape = 0;

  constructor(private readonly options: ReaderProcessesOptions) {}

  start(): void {
    for (let i = 1; i <= this.options.count; i += 1) this.spawn(`reader-${i}`);
  }

  /** The metrics of every reader that serves and answers within METRICS_WAIT_MS. */
  async metrics(): Promise<MetricsOfProcess[]> {
    const asked = [...this.readers].filter((reader) => reader.ready && reader.child.connected);
    const answers = await Promise.all(
      asked.map(
        (reader) =>
          new Promise<MetricsOfProcess | undefined>((resolve) => {
            const id = (this.nextScrape += 1);
            const settle = (metrics: MetricsOfProcess | undefined) => {
              clearTimeout(timer);
              this.scrapes.delete(id);
              reader.scrapes.delete(id);
              resolve(metrics);
            };
            const timer = setTimeout(() => settle(undefined), METRICS_WAIT_MS);
            this.scrapes.set(id, settle);
            reader.scrapes.add(id);
            reader.child.send({ type: METRICS_ASKED, id } satisfies MetricsMessage, (error) => error && this.scrapes.get(id)?.([]));
          }),
      ),
    );
    return answers.filter((metrics): metrics is MetricsOfProcess => metrics !== undefined && metrics.length > 0);
  }

  /** The readers that serve now, as connection takers. */
  takers(): ConnectionTaker[] {
    const takers: ConnectionTaker[] = [];
    for (const reader of this.readers) if (reader.ready && reader.child.connected) takers.push(takerOf(reader));
    return takers;
  }

  /** True once every reader has said it is ready; false if they have not within `timeoutMs`. */
  async allReady(timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      if (this.readers.size === this.options.count && [...this.readers].every((r) => r.ready)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.readers].map(({ child }) => stopChild(child)));
    this.readers.clear();
  }

  private spawn(name: string): void {
    const child = fork(this.options.script, [], {
      env: { ...process.env, [LEADER_SOCKET_ENV]: this.options.leaderSocket, [READER_NAME_ENV]: name },
      stdio: 'inherit',
    });
    const reader: Reader = { name, child, scrapes: new Set(), ready: false, sending: new Set() };
    this.readers.add(reader);
    child.on('message', (message: unknown) => {
      if (message === READER_READY) {
        reader.ready = true;
        this.options.log.log(`reader process ${child.pid} (${name}) serves`);
      } else if (isMetricsMessage(message) && message.type === METRICS_ANSWERED) {
        this.scrapes.get(message.id)?.(Array.isArray(message.metrics) ? message.metrics : []);
      }
    });
    // Connections still queued for a reader whose channel closed are never sent, and Node does
    // not say so: close them, so their clients reconnect instead of waiting on nobody.
    const gone = () => {
      dropUnsent(reader);
      for (const id of reader.scrapes) this.scrapes.get(id)?.([]);
    };
    child.once('disconnect', gone);
    child.once('exit', (code, signal) => {
      gone();
      this.readers.delete(reader);
      if (this.stopping) return;
      this.options.log.warn(`reader process ${child.pid} exited (${signal ?? `code ${code}`}); starting another in ${RESTART_AFTER_MS / 1000} s`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(name);
      }, RESTART_AFTER_MS).unref();
    });
  }
}

export const isMetricsMessage = (message: unknown): message is MetricsMessage =>
  typeof message === 'object' && message !== null && ((message as MetricsMessage).type === METRICS_ASKED || (message as MetricsMessage).type === METRICS_ANSWERED);

const takerOf = (reader: Reader): ConnectionTaker => ({
  take: (socket: Socket) => {
    if (!reader.child.connected) return false;
    // The reader gets a copy of the connection's descriptor; this process closes its own once the
    // message is on its way (keepOpen, then destroy: were the reader to die before taking it, the
    // copy in flight dies with the channel and the client sees the connection close, instead of
    // this process holding it open, unserved, waiting for a receipt that never comes). The
    // connection is the reader's even when `send` answers false: that only reports a backlog.
    reader.sending.add(socket);
    reader.child.send(DEALT_CONNECTION, socket, { keepOpen: true }, () => {
      reader.sending.delete(socket);
      socket.destroy();
    });
    return true;
  },
});

const dropUnsent = (reader: Reader): void => {
  for (const socket of reader.sending) socket.destroy();
  reader.sending.clear();
};

const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });

import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { ConnectionTaker } from './connection-dealer';

/** The message a reader sends once it serves, and the one a dealt connection arrives with. */
export const READER_READY = 'mrw:reader-ready';
export const DEALT_CONNECTION = 'mrw:connection';
/** Where a reader passes the requests it does not serve: the suite's private socket. */
export const LEADER_SOCKET_ENV = 'MRW_LEADER_SOCKET';

/** How long a reader that died waits before it is started again, and how long a stop waits for one. */
const RESTART_AFTER_MS = 1_000;
const STOP_WAIT_MS = 10_000;

interface Reader {
  readonly child: ChildProcess;
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

  constructor(private readonly options: ReaderProcessesOptions) {}

  start(): void {
    for (let i = 0; i < this.options.count; i += 1) this.spawn();
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

  private spawn(): void {
    const child = fork(this.options.script, [], {
      env: { ...process.env, [LEADER_SOCKET_ENV]: this.options.leaderSocket },
      stdio: 'inherit',
    });
    const reader: Reader = { child, ready: false, sending: new Set() };
    this.readers.add(reader);
    child.on('message', (message: unknown) => {
      if (message === READER_READY) {
        reader.ready = true;
        this.options.log.log(`reader process ${child.pid} serves`);
      }
    });
    // Connections still queued for a reader whose channel closed are never sent, and Node does
    // not say so: close them, so their clients reconnect instead of waiting on nobody.
    child.once('disconnect', () => dropUnsent(reader));
    child.once('exit', (code, signal) => {
      dropUnsent(reader);
      this.readers.delete(reader);
      if (this.stopping) return;
      this.options.log.warn(`reader process ${child.pid} exited (${signal ?? `code ${code}`}); starting another in ${RESTART_AFTER_MS / 1000} s`);
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, RESTART_AFTER_MS).unref();
    });
  }
}

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

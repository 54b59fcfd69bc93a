import { Worker } from 'node:worker_threads';
import { AUDIT_CHECKPOINT_SAVE, AUDIT_INSERT, PROJECTION_FILE_PRAGMAS } from './read-model.database';

/** Audit rows, flat: position, model, type, actor id, time; five values a row (see AUDIT_INSERT). */
export type AuditRows = Array<bigint | string | null>;

export const AUDIT_ROW_WIDTH = 5;

type Request =
  | { readonly type: 'write'; readonly rows: AuditRows; readonly to: bigint }
  | { readonly type: 'begin-bulk' }
  | { readonly type: 'finish-bulk' }
  | { readonly type: 'close' };

type Reply = { readonly ok: true; readonly value?: unknown } | { readonly ok: false; readonly message: string };

/**
 * The thread's program: plain JavaScript handed to the Worker as source, so it needs no
 * TypeScript loader under the test runner, and it requires only better-sqlite3. Every request
 * is answered, in the order it came, and none is carried out after one has failed; the SQL and
 * the pragmas are the ones the main thread's modules define (workerData).
 */
const WRITER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
let db, insert, saveCheckpoint;
try {
  db = new Database(workerData.file);
  for (const pragma of workerData.pragmas) db.pragma(pragma);
  insert = db.prepare(workerData.insert);
  saveCheckpoint = db.prepare(workerData.saveCheckpoint);
} catch (error) {
  if (db !== undefined) db.close();
  // A plain Error reaches the main thread with its message (SQLite's own error class does not).
  throw new Error('the audit index ' + workerData.file + ' cannot be written: ' + error.message);
}
const width = workerData.width;
const write = db.transaction((rows, to) => {
  for (let i = 0; i < rows.length; i += width) insert.run(rows[i], rows[i + 1], rows[i + 2], rows[i + 3], rows[i + 4]);
  saveCheckpoint.run(to);
});
const handle = (request) => {
  switch (request.type) {
    case 'write':
      return write(request.rows, request.to);
    case 'begin-bulk':
      // No fsync at the checkpoints of the bulk load: the file is rebuilt if it does not finish.
      return void db.pragma('synchronous = OFF');
    case 'finish-bulk': {
      db.pragma('synchronous = NORMAL');
      // With NORMAL, a checkpoint syncs the WAL before copying it and the database file after.
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
      return result.busy === 0;
    }
    case 'close':
      return void db.close();
    default:
      throw new Error('unknown request ' + request.type);
  }
};
// After a failure nothing more is written (a later batch would leave a hole below the checkpoint).
let failed;
parentPort.on('message', (request) => {
  let reply;
  try {
    if (failed !== undefined && request.type !== 'close') throw new Error('not written: an earlier request failed: ' + failed);
    reply = { ok: true, value: handle(request) };
  } catch (error) {
    failed = failed || String(error && error.message);
    reply = { ok: false, message: (error && error.stack) || String(error) };
  }
  parentPort.postMessage(reply);
  if (request.type === 'close') parentPort.close();
});
`;

/**
 * Writes the audit index from a thread of its own, into its own file: the main thread works out
 * each event's row (`addAuditRow`) and hands the rows over; the thread inserts them with the
 * checkpoint in one transaction, and the main thread learns the position once it is committed
 * (`written`). Requests are carried out and answered in the order they are made. During a
 * rebuild this runs next to the catalog's projection on the other core; live, the index's
 * inserts leave the thread that serves requests.
 */
export class AuditIndexWriter {
  private readonly worker: Worker;
  /** Resolvers of the requests made and not answered yet, oldest first. */
  private readonly waiting: Array<{ resolve: (value: unknown) => void; reject: (error: Error) => void }> = [];
  /** Waiting for fewer than `drainedBelow` requests in flight (see fewerWaitingThan). */
  private drained: Array<() => void> = [];
  private drainedBelow = 0;
  private failure: Error | undefined;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(
    file: string,
    private readonly events: { readonly written: (to: bigint) => void; readonly failed: (error: Error) => void },
  ) {
    this.worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: {
        sqlite: require.resolve('better-sqlite3'),
        file,
        pragmas: PROJECTION_FILE_PRAGMAS,
        insert: AUDIT_INSERT,
        saveCheckpoint: AUDIT_CHECKPOINT_SAVE,
        width: AUDIT_ROW_WIDTH,
      },
    });
    // The thread keeps the process alive only while a request waits for its answer (see
    // `request`): an idle writer nobody stopped does not, and what it had not written is read
    // from the log again at the next start.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const next = this.waiting.shift();
      if (this.waiting.length === 0 && !this.closing) this.worker.unref();
      if (reply.ok) next?.resolve(reply.value);
      else {
        const error = new Error(`the audit index's writer failed: ${reply.message}`);
        next?.reject(error);
        this.stop(error, { asked: this.closing });
      }
      if (this.waiting.length < this.drainedBelow) this.wake();
    });
    this.worker.on('error', (error) => this.stop(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.stop(new Error(`the audit index's writer exited (code ${code})`), { asked: this.closing });
        resolve();
      }),
    );
  }

  /** Rows to insert, and the position the index has then reached (its checkpoint). */
  write(rows: AuditRows, to: bigint): void {
    void this.request({ type: 'write', rows, to }).then(
      () => this.events.written(to),
      () => undefined,
    );
  }

  /** Syncing off on the writer's connection while the index is built from empty (behind a marker). */
  beginBulk(): void {
    void this.request({ type: 'begin-bulk' }).catch(() => undefined);
  }

  /**
   * The bulk load is over: NORMAL syncing again, and a checkpoint that syncs it all. True when
   * everything is synced (a checkpoint another connection held up is not).
   */
  async finishBulk(): Promise<boolean> {
    return (await this.request({ type: 'finish-bulk' })) === true;
  }

  /** Resolves once fewer than `count` requests are waiting for the thread: keeps a rebuild from running ahead. */
  fewerWaitingThan(count: number): Promise<void> {
    if (this.waiting.length < count || this.failure) return Promise.resolve();
    this.drainedBelow = count;
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Writes what was handed over, closes the file and ends the thread. */
  async close(): Promise<void> {
    this.closing = true;
    // Until the thread has ended, whatever else the process is doing.
    this.worker.ref();
    // A failed writer has nothing more to write: its thread is ended as it stands.
    if (this.failure) await this.worker.terminate();
    else await this.request({ type: 'close' }).catch(() => undefined);
    await this.exited;
  }

  private request(request: Request): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      // An answer awaited keeps the process alive (a stopping suite's last handles may be gone).
      if (this.waiting.length === 1) this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  private wake(): void {
    const drained = this.drained;
    this.drained = [];
    for (const resolve of drained) resolve();
  }

  /** The thread failed or ended: nothing more is written; whoever waits is told, and the projector unless it was asked to end. */
  private stop(error: Error, { asked = false } = {}): void {
    if (this.failure) return;
    this.failure = error;
    for (const { reject } of this.waiting.splice(0)) reject(error);
    this.wake();
    if (!asked) this.events.failed(error);
  }
}

import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { eventually } from '@mrw/messaging/testing';
import { AuditIndexWriter } from './audit-index.writer';
import { openAuditIndex } from './read-model.database';

describe('AuditIndexWriter: the audit index written from a thread of its own', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-audit-writer-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A writer on a fresh audit index, a connection reading it, and what the writer reported. */
  const opened = () => {
    const file = join(dir, 'audit.sqlite');
    const reader = openAuditIndex(file);
    const written: bigint[] = [];
    const failures: Error[] = [];
    const writer = new AuditIndexWriter(file, { written: (to) => written.push(to), failed: (error) => failures.push(error) });
    return { file, reader, writer, written, failures };
  };

  const row = (position: bigint, model: string | null) => [position, model, 'ModelCreated', 'ada', '2026-01-01T00:00:00.000Z'];

  it('commits the rows with the checkpoint, in the order handed over, and says so once they are committed', async () => {
    const { reader, writer, written, failures } = opened();
    writer.write([...row(1n, 'churn'), ...row(2n, null)], 2n);
    // A batch of private events only: no rows, the checkpoint still moves.
    writer.write([], 5n);
    writer.write(row(6n, 'fraud'), 6n);
    await writer.fewerWaitingThan(1);
    expect(written).toEqual([2n, 5n, 6n]);
    expect(reader.prepare(`SELECT position, model FROM audit ORDER BY position`).safeIntegers(true).all()).toEqual([
      { position: 1n, model: 'churn' },
      { position: 2n, model: null },
      { position: 6n, model: 'fraud' },
    ]);
    expect(reader.prepare(`SELECT position FROM checkpoint WHERE name = 'audit'`).pluck().safeIntegers(true).get()).toBe(6n);
    // A row handed over again (a catch-up that read it twice) is not doubled.
    writer.write(row(6n, 'fraud'), 6n);
    await writer.fewerWaitingThan(1);
    expect(reader.prepare(`SELECT COUNT(*) FROM audit`).pluck().get()).toBe(3);
    await writer.close();
    expect(failures).toEqual([]);
    reader.close();
  });

  it('turns syncing off for a bulk load and back on with a checkpoint that leaves nothing in the WAL', async () => {
    const { file, reader, writer, failures } = opened();
    writer.beginBulk();
    for (let n = 1n; n <= 200n; n += 1n) writer.write(row(n, 'churn'), n);
    await expect(writer.finishBulk()).resolves.toBe(true);
    expect(reader.prepare(`SELECT COUNT(*) FROM audit`).pluck().get()).toBe(200);
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);
    await writer.close();
    expect(failures).toEqual([]);
    reader.close();
  });

  it('keeps the process alive while an answer is awaited, and only then', async () => {
    // A process whose only other work is done: the writer's thread must hold it until the rows
    // are written and the thread has ended (as in a suite stopping), and not a moment longer.
    const file = join(dir, 'audit.sqlite');
    openAuditIndex(file).close();
    const script = `
      const { AuditIndexWriter } = require(${JSON.stringify(join(__dirname, 'audit-index.writer.ts'))});
      const idle = new AuditIndexWriter(process.argv[1] + '.idle', { written: () => undefined, failed: () => undefined });
      const writer = new AuditIndexWriter(process.argv[1], { written: (to) => console.log('written ' + to), failed: (e) => console.log('failed ' + e.message) });
      writer.write([1n, 'churn', 'ModelCreated', 'ada', '2026-01-01T00:00:00.000Z'], 1n);
      writer.close().then(() => console.log('closed'));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', '-e', script, file], { timeout: 30_000 });
    // Ended by itself with 'idle' never closed: an idle writer does not hold the process.
    expect(stdout.trim().split('\n')).toEqual(['written 1', 'closed']);
    const reader = openAuditIndex(file);
    expect(reader.prepare(`SELECT COUNT(*) FROM audit`).pluck().get()).toBe(1);
    reader.close();
  });

  it('reports a writer that cannot write, and refuses what is handed over after it', async () => {
    const file = join(dir, 'not-an-audit-index.sqlite');
    // A file without the audit index's tables: the thread fails as it prepares its statements.
    new Database(file).close();
    const failures: Error[] = [];
    const writer = new AuditIndexWriter(file, { written: () => undefined, failed: (error) => failures.push(error) });
    await eventually(async () => failures.length > 0 || undefined, { what: 'the failure reported' });
    expect(failures[0]?.message).toMatch(/no such table: audit/);
    writer.write(row(1n, 'churn'), 1n);
    await expect(writer.finishBulk()).rejects.toThrow(/no such table: audit/);
    await writer.close();
    expect(failures).toHaveLength(1);
  });

  it('reports a failed write and stops there', async () => {
    const { reader, writer, written, failures } = opened();
    writer.write(row(1n, 'churn'), 1n);
    // A value SQLite cannot hold: the batch's transaction is rolled back.
    writer.write([2n, 'churn', { not: 'a string' } as unknown as string, 'ada', '2026-01-01T00:00:00.000Z'], 2n);
    writer.write(row(3n, 'churn'), 3n);
    await eventually(async () => failures.length > 0 || undefined, { what: 'the failure reported' });
    await writer.close();
    // Nothing after the failed batch either: no hole below the checkpoint.
    expect(written).toEqual([1n]);
    expect(failures[0]?.message).toMatch(/the audit index's writer failed: RangeError/);
    expect(reader.prepare(`SELECT position FROM audit`).pluck().safeIntegers(true).all()).toEqual([1n]);
    expect(reader.prepare(`SELECT position FROM checkpoint WHERE name = 'audit'`).pluck().safeIntegers(true).get()).toBe(1n);
    reader.close();
  });
});

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * What a consumer group has already handled, by message id (event id or command id), in a
 * SQLite file of the service's own. At-least-once delivery plus this check gives
 * effectively-once effects: a redelivered message is recognised and skipped.
 */
export class Inbox {
  private readonly db: Database.Database;
  private readonly seen: Database.Statement<[string, string]>;
  private readonly mark: Database.Statement<[string, string, string, string]>;
  private readonly writeAll: (rows: ReadonlyArray<readonly [string, string, string, string]>) => void;
  /** Handled, not written yet (see record). */
  private readonly unwritten = new Map<string, [string, string, string, string]>();

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a record lost to a power cut means the message is handled again, the same as a
    // crash between an effect and its record, which every handler already tolerates (effects
    // carry ids derived from the message). FULL would fsync once per handled message.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS handled (
      consumer TEXT NOT NULL, message_id TEXT NOT NULL, type TEXT NOT NULL, handled_at TEXT NOT NULL,
      PRIMARY KEY (consumer, message_id))`);
    this.seen = this.db.prepare(`SELECT 1 FROM handled WHERE consumer = ? AND message_id = ?`);
    this.mark = this.db.prepare(`INSERT OR IGNORE INTO handled (consumer, message_id, type, handled_at) VALUES (?, ?, ?, ?)`);
    this.writeAll = this.db.transaction((rows: ReadonlyArray<readonly [string, string, string, string]>) => {
      for (const [consumer, messageId, type, at] of rows) this.mark.run(consumer, messageId, type, at);
    });
  }

  has(consumer: string, messageId: string): boolean {
    return this.unwritten.has(keyOf(consumer, messageId)) || this.seen.get(consumer, messageId) !== undefined;
  }

  /** Runs `effect` unless this message was handled already; records it once the effect succeeded. */
  async once(consumer: string, messageId: string, type: string, effect: () => Promise<void>): Promise<'handled' | 'duplicate'> {
    if (this.has(consumer, messageId)) return 'duplicate';
    await effect();
    this.record(consumer, messageId, type);
    return 'handled';
  }

  /**
   * Records are written together once per turn of the event loop, in one transaction: one
   * write for the messages handled meanwhile instead of one each. One lost to a crash before
   * it is written means the message is handled again, as with a crash between the effect and
   * its record, which every handler tolerates.
   */
  private record(consumer: string, messageId: string, type: string): void {
    if (this.unwritten.size === 0) setImmediate(() => this.flush());
    this.unwritten.set(keyOf(consumer, messageId), [consumer, messageId, type, new Date().toISOString()]);
  }

  private flush(): void {
    if (this.unwritten.size === 0 || !this.db.open) return;
    const rows = [...this.unwritten.values()];
    this.unwritten.clear();
    try {
      this.writeAll(rows);
    } catch {
      // The file is busy or failing: keep the records for the next try (has() still sees them).
      for (const row of rows) this.unwritten.set(keyOf(row[0], row[1]), row);
      setTimeout(() => this.flush(), 100).unref();
    }
  }

  /** How many messages of each type this consumer has handled. */
  counts(consumer: string): Record<string, number> {
    this.flush();
    const rows = this.db
      .prepare(`SELECT type, COUNT(*) AS n FROM handled WHERE consumer = ? GROUP BY type`)
      .all(consumer) as Array<{ type: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

const keyOf = (consumer: string, messageId: string): string => `${consumer}\u0000${messageId}`;

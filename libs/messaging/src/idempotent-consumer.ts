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
  }

  has(consumer: string, messageId: string): boolean {
    return this.seen.get(consumer, messageId) !== undefined;
  }

  /** Runs `effect` unless this message was handled already; records it once the effect succeeded. */
  async once(consumer: string, messageId: string, type: string, effect: () => Promise<void>): Promise<'handled' | 'duplicate'> {
    if (this.has(consumer, messageId)) return 'duplicate';
    await effect();
    this.mark.run(consumer, messageId, type, new Date().toISOString());
    return 'handled';
  }

  /** How many messages of each type this consumer has handled. */
  counts(consumer: string): Record<string, number> {
    const rows = this.db
      .prepare(`SELECT type, COUNT(*) AS n FROM handled WHERE consumer = ? GROUP BY type`)
      .all(consumer) as Array<{ type: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }

  close(): void {
    this.db.close();
  }
}

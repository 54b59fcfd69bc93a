import type Database from 'better-sqlite3';
import { openWorkingDatabase } from '@mrw/platform';
import type { LiveSample } from '../plan-archival';

/**
 * Live metrics as monitoring reported them, `<dataDir>/archival-live-metrics.sqlite`: the
 * archival service's own working file (samples are operations data, too many for the event
 * log; what they decide — an archival, a breach — is recorded in the log with its window).
 */
export class LiveMetricSamples {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(file: string) {
    // An accepted batch survives a power cut: monitoring does not send it twice.
    this.db = openWorkingDatabase(file, 'FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS samples (
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        metric TEXT NOT NULL,
        at INTEGER NOT NULL,
        value REAL NOT NULL,
        count INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS samples_by_series ON samples (model, version, metric, at);`);
    this.insert = this.db.prepare('INSERT INTO samples (model, version, metric, at, value, count) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /** Adds a batch, all or nothing. */
  add(model: string, samples: readonly LiveSample[]): void {
    this.db.transaction(() => {
      for (const s of samples) this.insert.run(model, s.version, s.metric, Date.parse(s.at), s.value, s.count);
    })();
  }

  /** One series, oldest first (at most the newest `limit` samples). */
  series(model: string, version: number, metric: string, limit = 100_000): LiveSample[] {
    const rows = this.db
      .prepare('SELECT at, value, count FROM (SELECT at, value, count FROM samples WHERE model = ? AND version = ? AND metric = ? ORDER BY at DESC LIMIT +?) ORDER BY at')
      .all(model, version, metric, limit) as Array<{ at: number; value: number; count: number }>;
    return rows.map((r) => ({ version, metric, value: r.value, at: new Date(r.at).toISOString(), count: r.count }));
  }

  /** Every sample of a model, oldest first (backtests). */
  all(model: string): LiveSample[] {
    const rows = this.db.prepare('SELECT version, metric, at, value, count FROM samples WHERE model = ? ORDER BY at').all(model) as Array<{
      version: number;
      metric: string;
      at: number;
      value: number;
      count: number;
    }>;
    return rows.map((r) => ({ version: r.version, metric: r.metric, value: r.value, at: new Date(r.at).toISOString(), count: r.count }));
  }

  close(): void {
    this.db.close();
  }
}

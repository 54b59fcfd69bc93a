import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A service's own SQLite working file (timers, delivery records, samples), created with its
 * folder: WAL, a 1 s busy timeout, and the durability the caller chooses — `FULL` when what it
 * acknowledged must survive a power cut, `NORMAL` when losing the last marks only repeats work.
 */
export const openWorkingDatabase = (file: string, synchronous: 'FULL' | 'NORMAL'): Database.Database => {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 1000');
  return db;
};

import { closeSync, existsSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Stage } from '@mrw/contracts';

/** Bumped whenever a projection's tables or meaning change: the read model is then rebuilt from the log. */
export const READ_MODEL_SCHEMA_VERSION = 7;

/** What every projection's file holds besides its own tables: its schema version and its checkpoints. */
const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS models (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  aliases TEXT NOT NULL DEFAULT '{}',
  last_version INTEGER NOT NULL DEFAULT 0,
  serving_version INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  stage TEXT NOT NULL,
  source TEXT NOT NULL,
  digest TEXT,
  tags TEXT NOT NULL,
  registered_by TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  evaluation_status TEXT,
  evaluation_passed INTEGER,
  pending_approval TEXT,
  serving INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model, version)
);
CREATE INDEX IF NOT EXISTS versions_by_stage ON versions (stage, model);
CREATE TABLE IF NOT EXISTS dead_letters (
  letter_id TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  origin TEXT NOT NULL,
  truncated INTEGER NOT NULL,
  size INTEGER NOT NULL,
  dead_lettered_at TEXT NOT NULL,
  redriven_at TEXT,
  redriven_by TEXT
);
CREATE INDEX IF NOT EXISTS dead_letters_open ON dead_letters (redriven_at, position);
CREATE TABLE IF NOT EXISTS request_comments (
  stream TEXT NOT NULL,
  request_id TEXT NOT NULL,
  comment TEXT NOT NULL,
  PRIMARY KEY (stream, request_id)
);
CREATE TABLE IF NOT EXISTS approvals (
  approval_id TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  purpose TEXT NOT NULL,
  target_stage TEXT NOT NULL,
  status TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  comment TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  rule TEXT NOT NULL,
  evidence TEXT NOT NULL,
  checks TEXT NOT NULL,
  approvals TEXT NOT NULL DEFAULT '[]',
  rejection TEXT,
  after_the_fact INTEGER NOT NULL,
  notifications TEXT NOT NULL DEFAULT '[]',
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, position);
CREATE TABLE IF NOT EXISTS evaluation_results (
  evaluation_id TEXT PRIMARY KEY,
  metrics TEXT NOT NULL,
  comparison TEXT
);
CREATE INDEX IF NOT EXISTS approvals_by_model ON approvals (model, position);
`;

/** A row of the `versions` table (the catalog's versions and the stage board), as read. */
export interface VersionRow {
  model: string;
  version: number;
  stage: Stage;
  source: string;
  digest: string | null;
  tags: string;
  registered_by: string;
  registered_at: string;
  updated_at: string;
  evaluation_status: 'running' | 'completed' | 'failed' | null;
  evaluation_passed: number | null;
  pending_approval: string | null;
  serving: number;
}

/** Bumped whenever the audit index's table or meaning change: it is then rebuilt from the log. */
export const AUDIT_INDEX_SCHEMA_VERSION = 1;

/**
 * The audit index, in a file of its own next to the read model: it is written by a thread of
 * its own (`AuditIndexWriter`), and SQLite takes one writer per file at a time.
 */
const AUDIT_INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  position INTEGER PRIMARY KEY,
  model TEXT,
  type TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  occurred_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_model ON audit (model, position);
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit (actor_id, position);
CREATE INDEX IF NOT EXISTS audit_by_type ON audit (type, position);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (occurred_at);
`;

/** One row of the audit index: position, model (null for a stream of no model), type, actor id, time. */
export const AUDIT_INSERT = `INSERT OR IGNORE INTO audit (position, model, type, actor_id, occurred_at) VALUES (?, ?, ?, ?, ?)`;

/** The audit index's checkpoint, in its own file. */
export const AUDIT_CHECKPOINT_SAVE = `INSERT OR REPLACE INTO checkpoint (name, position) VALUES ('audit', ?)`;

/** Present while a projection's file is built from empty with syncing off (see `markBulkBuild`). */
const buildMarkerOf = (file: string): string => `${file}.building`;

/** Makes a directory entry (a file made or removed in it) survive a power cut. */
const syncDirectoryOf = (file: string): void => {
  const fd = openSync(dirname(file), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** Every connection to a projection's file: WAL, NORMAL syncing, a busy timeout. */
export const PROJECTION_FILE_PRAGMAS: readonly string[] = ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000'];

/** Opens a projection's file with its pragmas. */
const openFile = (file: string): Database.Database => {
  const db = new Database(file);
  for (const pragma of PROJECTION_FILE_PRAGMAS) db.pragma(pragma);
  return db;
};

/** Removes a projection's file with its WAL and shared-memory files. */
const removeFiles = (file: string): void => {
  for (const part of [file, `${file}-wal`, `${file}-shm`]) rmSync(part, { force: true });
};

/**
 * A projection's file of the given schema version, rebuilt from the event log whenever it is
 * missing or its schema version changed. Durability is NORMAL: a lost tail is replayed. A file
 * whose build from empty did not finish (its marker is still there: the process died, or the
 * power went, while syncing was off) is started over. So is a file of another schema version,
 * in a new file: dropping its tables would keep the space they took.
 */
const openProjectionFile = (file: string, schema: string, schemaVersion: number): Database.Database => {
  const marker = buildMarkerOf(file);
  if (existsSync(marker)) {
    removeFiles(file);
    rmSync(marker);
  }
  let db = openFile(file);
  const hasMeta = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  const version = hasMeta
    ? (db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined)?.value
    : undefined;
  if (version !== undefined && Number(version) !== schemaVersion) {
    db.close();
    removeFiles(file);
    db = openFile(file);
  }
  db.exec(BOOKKEEPING + schema);
  db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(schemaVersion));
  return db;
};

/** The registry's read model (catalog, stage board, approvals, dead letters): see `openProjectionFile`. */
export const openReadModel = (file: string): Database.Database => openProjectionFile(file, SCHEMA, READ_MODEL_SCHEMA_VERSION);

/** The audit index's file next to a read model's. */
export const auditIndexFileOf = (readModelFile: string): string => join(dirname(readModelFile), `${basename(readModelFile, '.sqlite')}.audit-index.sqlite`);

/** The audit index (see `openProjectionFile`); this connection reads it and its checkpoint, `AuditIndexWriter` writes it. */
export const openAuditIndex = (file: string): Database.Database => openProjectionFile(file, AUDIT_INDEX_SCHEMA, AUDIT_INDEX_SCHEMA_VERSION);

/** The read model's file in the data directory. */
export const READ_MODEL_FILE = 'registry-read-model.sqlite';

/**
 * The suite's read model as a reader process sees it: the same file, read only, opened once the
 * suite has built it (readers start after the suite is ready). It must be of this schema
 * version: a reader is the same build as the suite that started it.
 */
export const openReadModelReadOnly = (file: string): Database.Database => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const version = (db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined)?.value;
  if (Number(version) !== READ_MODEL_SCHEMA_VERSION) {
    db.close();
    throw new Error(`the read model ${file} is of schema version ${version ?? 'none'}, not ${READ_MODEL_SCHEMA_VERSION}: a reader reads the suite's own, once it is built`);
  }
  return db;
};

/** The catalog's checkpoint as the file holds it: what the suite's projector last committed. */
export const committedCatalogCheckpoint = (db: Database.Database): { readonly checkpoint: bigint } => {
  const position = db.prepare<[], bigint>(`SELECT position FROM checkpoint WHERE name = 'registry'`).pluck().safeIntegers(true);
  return {
    get checkpoint() {
      return position.get() ?? 0n;
    },
  };
};

/**
 * Says a projection's file is being built from empty with syncing off: made durable before the
 * first batch, removed (durably) once everything is synced again. `openProjectionFile` starts
 * a file whose marker is still there over.
 */
export const markBulkBuild = (file: string): { remove(): void } => {
  const marker = buildMarkerOf(file);
  closeSync(openSync(marker, 'w'));
  syncDirectoryOf(marker);
  return {
    remove: () => {
      rmSync(marker);
      syncDirectoryOf(marker);
    },
  };
};

/**
 * A build of the read model from empty, which is the whole log in large batches: SQLite's
 * syncing is off meanwhile (no fsync at the WAL checkpoints the bulk load makes), which a
 * read model can afford because it can be built again. The marker (`markBulkBuild`) says the
 * file is not to be trusted until `finish()` has checkpointed and synced everything with NORMAL
 * again. 10% of a 110k-event rebuild here. (The audit index's writer thread does the same on
 * its own connection.)
 */
export const beginBulkBuild = (db: Database.Database): { finish(): void } => {
  if (db.memory) return { finish: () => undefined };
  const marker = markBulkBuild(db.name);
  db.pragma('synchronous = OFF');
  return {
    finish: () => {
      db.pragma('synchronous = NORMAL');
      // With NORMAL, a checkpoint syncs the WAL before copying it and the database file after.
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      // A checkpoint another connection held up leaves the marker: the next start builds again.
      if (result?.busy === 0) marker.remove();
    },
  };
};

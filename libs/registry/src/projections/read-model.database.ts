import Database from 'better-sqlite3';

/** Bumped whenever a projection's tables or meaning change: the read model is then rebuilt from the log. */
export const READ_MODEL_SCHEMA_VERSION = 5;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
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
CREATE TABLE IF NOT EXISTS audit (
  position INTEGER PRIMARY KEY,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  model TEXT,
  version INTEGER,
  type TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  event_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  data TEXT NOT NULL
);
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

/**
 * The audit table's indexes. A read model built from an empty file gets them once it has caught
 * up with the log (READ_MODEL_INDEXES after the bulk load): one sort per index is far cheaper
 * than keeping four indexes in order through a hundred thousand inserts.
 */
export const READ_MODEL_INDEXES = `
CREATE INDEX IF NOT EXISTS audit_by_model ON audit (model, position);
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit (actor_id, position);
CREATE INDEX IF NOT EXISTS audit_by_type ON audit (type, position);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (occurred_at);
`;

/**
 * The registry's read model: a SQLite file of its own, rebuilt from the event log whenever
 * it is missing or its schema version changed. Durability is NORMAL: a lost tail is replayed.
 */
export const openReadModel = (file: string): Database.Database => {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const hasMeta = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  const version = hasMeta
    ? (db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined)?.value
    : undefined;
  if (version !== undefined && Number(version) !== READ_MODEL_SCHEMA_VERSION) {
    for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>) {
      db.exec(`DROP TABLE IF EXISTS "${name}"`);
    }
  }
  db.exec(SCHEMA);
  db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(READ_MODEL_SCHEMA_VERSION));
  return db;
};

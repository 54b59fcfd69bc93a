import type Database from 'better-sqlite3';
import { escapeIdentifier, type Pool } from 'pg';
import { openPostgresWorkingTables, openWorkingDatabase } from '@mrw/platform';

/** A file under an MLflow artifact path: where its bytes are in the content-addressed store. */
export interface MlflowArtifactFile {
  readonly digest: string;
  readonly size: number;
}

/** A path and the file it names. */
export interface IndexedArtifact extends MlflowArtifactFile {
  readonly path: string;
}

/**
 * MLflow's artifact namespace: which file (by digest) each path names. A directory, not
 * lifecycle: what is governed is the version that later names the bytes by digest. Paths are
 * normalised by the caller.
 */
export interface MlflowArtifactIndex {
  /** Names `path` as this file, replacing what it named. */
  name(path: string, file: MlflowArtifactFile): Promise<void>;
  /** Names each path as its file unless the path names one already, all in one transaction. */
  nameOnce(entries: readonly IndexedArtifact[]): Promise<void>;
  /** The file a path names, or undefined. */
  find(path: string): Promise<MlflowArtifactFile | undefined>;
  /** Every file under a folder at any depth (`''`: every file), in code point order of path. */
  under(folder: string): Promise<IndexedArtifact[]>;
  close(): Promise<void>;
}

export const MLFLOW_ARTIFACT_INDEX = Symbol('MLFLOW_ARTIFACT_INDEX');

/**
 * The paths under `folder` as a range, `[from, to)`, that an index on the path serves: every
 * path starting with `folder/` sorts between `folder/` and `folder0` (`0` follows `/` in code
 * point order), and nothing else does. No upper bound for the root.
 */
const rangeOf = (folder: string): { readonly from: string; readonly to: string | undefined } =>
  folder === '' ? { from: '', to: undefined } : { from: `${folder}/`, to: `${folder}0` };

/** The index in a SQLite file of one registry process (`<dataDir>/mlflow-artifacts.sqlite`). */
export class SqliteArtifactIndex implements MlflowArtifactIndex {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    // An acknowledged upload survives a power cut: the client does not send it again.
    this.db = openWorkingDatabase(file, 'FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER NOT NULL);`);
    this.statements = {
      name: this.db.prepare<[string, string, number]>(
        'INSERT INTO files (path, digest, size) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET digest = excluded.digest, size = excluded.size',
      ),
      nameOnce: this.db.prepare<[string, string, number]>('INSERT OR IGNORE INTO files (path, digest, size) VALUES (?, ?, ?)'),
      find: this.db.prepare<[string], MlflowArtifactFile>('SELECT digest, size FROM files WHERE path = ?'),
      all: this.db.prepare<[], IndexedArtifact>('SELECT path, digest, size FROM files ORDER BY path'),
      range: this.db.prepare<[string, string], IndexedArtifact>('SELECT path, digest, size FROM files WHERE path >= ? AND path < ? ORDER BY path'),
    };
  }

  async name(path: string, file: MlflowArtifactFile): Promise<void> {
    this.statements.name.run(path, file.digest, file.size);
  }

  async nameOnce(entries: readonly IndexedArtifact[]): Promise<void> {
    this.db.transaction(() => entries.forEach((e) => this.statements.nameOnce.run(e.path, e.digest, e.size)))();
  }

  async find(path: string): Promise<MlflowArtifactFile | undefined> {
    return this.statements.find.get(path);
  }

  async under(folder: string): Promise<IndexedArtifact[]> {
    const { from, to } = rangeOf(folder);
    return to === undefined ? this.statements.all.all() : this.statements.range.all(from, to);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Advisory-lock class of this index's table creation ('mrw' 5; the event store, the lease and the webhook book take 1–4). */
const SETUP_LOCK_CLASS = 0x6d727705;

/**
 * The index in the event store's PostgreSQL schema (`mlflow_artifact_files`), shared by every
 * registry replica: a folder logged through one replica's artifact proxy is listed and served
 * by all of them (the bytes are on the artifacts volume they share). Paths compare by code
 * point (`COLLATE "C"`), as in SQLite, so listings and ranges agree between the two.
 */
export class PostgresArtifactIndex implements MlflowArtifactIndex {
  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
  ) {}

  static async open(options: { readonly connectionString: string; readonly schema: string }): Promise<PostgresArtifactIndex> {
    const table = `${escapeIdentifier(options.schema)}.mlflow_artifact_files`;
    const pool = await openPostgresWorkingTables({
      connectionString: options.connectionString,
      schema: options.schema,
      applicationName: 'mrw-mlflow-artifacts',
      lockClass: SETUP_LOCK_CLASS,
      poolSize: 2,
      ddl: () => `CREATE TABLE IF NOT EXISTS ${table} (path text COLLATE "C" PRIMARY KEY, digest text NOT NULL, size bigint NOT NULL);`,
    });
    return new PostgresArtifactIndex(pool, table);
  }

  async name(path: string, file: MlflowArtifactFile): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (path, digest, size) VALUES ($1, $2, $3) ON CONFLICT (path) DO UPDATE SET digest = excluded.digest, size = excluded.size`,
      [path, file.digest, file.size],
    );
  }

  async nameOnce(entries: readonly IndexedArtifact[]): Promise<void> {
    if (entries.length === 0) return;
    // One statement: all or none.
    await this.pool.query(
      `INSERT INTO ${this.table} (path, digest, size) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (path) DO NOTHING`,
      [entries.map((e) => e.path), entries.map((e) => e.digest), entries.map((e) => e.size)],
    );
  }

  async find(path: string): Promise<MlflowArtifactFile | undefined> {
    const { rows } = await this.pool.query<{ digest: string; size: string }>(`SELECT digest, size FROM ${this.table} WHERE path = $1`, [path]);
    const row = rows[0];
    return row ? { digest: row.digest, size: Number(row.size) } : undefined;
  }

  async under(folder: string): Promise<IndexedArtifact[]> {
    const { from, to } = rangeOf(folder);
    const { rows } =
      to === undefined
        ? await this.pool.query<{ path: string; digest: string; size: string }>(`SELECT path, digest, size FROM ${this.table} ORDER BY path`)
        : await this.pool.query<{ path: string; digest: string; size: string }>(
            `SELECT path, digest, size FROM ${this.table} WHERE path >= $1 AND path < $2 ORDER BY path`,
            [from, to],
          );
    return rows.map((row) => ({ path: row.path, digest: row.digest, size: Number(row.size) }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** One step of the PostgreSQL store's schema: applied once, in version order, inside a transaction. */
export interface Migration {
  /** 1, 2, 3, …: the order they run in, and what `schema_migrations` records. */
  readonly version: number;
  readonly name: string;
  /** Run with `search_path` set to the store's schema; may hold several statements. */
  readonly sql: string;
}

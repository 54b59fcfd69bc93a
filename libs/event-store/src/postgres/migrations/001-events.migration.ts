import type { Migration } from './migration';

/**
 * The log and the subscriptions' checkpoints. Runs with `search_path` set to the store's
 * schema, so names are unqualified.
 *
 * `data` and `metadata` are `json`, not `jsonb`: `json` keeps the canonical text exactly as
 * written (the hash chain is computed over it) and accepts every string JSON can encode,
 * `\u0000` and lone surrogates included, which `jsonb` refuses.
 *
 * `position` has no sequence: appends take a transaction-scoped advisory lock and number
 * their events from max(position) + 1, so positions are gap-free and commit in order (see
 * the adapter).
 */
export const eventsMigration: Migration = {
  version: 1,
  name: 'events',
  sql: `
CREATE TABLE events (
  position    bigint PRIMARY KEY CHECK (position > 0),
  stream_name text   NOT NULL CHECK (stream_name <> ''),
  revision    bigint NOT NULL CHECK (revision >= 0),
  event_id    text   NOT NULL UNIQUE,
  type        text   NOT NULL,
  data        json   NOT NULL,
  metadata    json   NOT NULL,
  UNIQUE (stream_name, revision)
);

CREATE TABLE checkpoints (
  name     text   PRIMARY KEY,
  position bigint NOT NULL CHECK (position >= 0)
);

-- The log is the audit trail: nothing that went in may change or go. A statement trigger
-- fires even when no row matches, so the refusal does not depend on what is stored.
CREATE FUNCTION refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
`,
};

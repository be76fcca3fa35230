/**
 * SQL that `herald pg ...` installs. Everything is created in the schema first on
 * the connection's search_path, and every name the hub relies on is derived from
 * that schema, so several Herald outboxes can share one database.
 */

/** The outbox: table, commit-order sequencing, wake-up NOTIFY and `herald_publish()`. */
export const OUTBOX_INSTALL_SQL = `
CREATE SEQUENCE IF NOT EXISTS herald_outbox_seq;

CREATE TABLE IF NOT EXISTS herald_outbox (
  id         bigserial PRIMARY KEY,
  -- Commit order: assigned at commit time (see herald_outbox_sequence), NULL until then.
  seq        bigint UNIQUE,
  topic      text NOT NULL,
  type       text NOT NULL DEFAULT 'message',
  data       jsonb NOT NULL DEFAULT 'null',
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the relay could not publish the row (invalid topic, too large, ...).
  error      text
);

-- The relay's progress: every row with seq <= last_seq is in the Herald log.
CREATE TABLE IF NOT EXISTS herald_outbox_cursor (
  name     text PRIMARY KEY,
  last_seq bigint NOT NULL DEFAULT 0
);
INSERT INTO herald_outbox_cursor (name) VALUES ('relay') ON CONFLICT DO NOTHING;

-- Runs at commit (deferred). The transaction-scoped advisory lock is held until
-- this transaction ends, so a later-committing transaction cannot take a number
-- before this one is visible: seq order is commit order, and a reader that has
-- seen seq n has seen everything below n. It also wakes the relay.
CREATE OR REPLACE FUNCTION herald_outbox_sequence() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_SCHEMA || '.herald_outbox.commit'));
  UPDATE herald_outbox SET seq = nextval('herald_outbox_seq') WHERE id = NEW.id;
  PERFORM pg_notify('herald_outbox.' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS herald_outbox_sequence ON herald_outbox;
CREATE CONSTRAINT TRIGGER herald_outbox_sequence
  AFTER INSERT ON herald_outbox
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION herald_outbox_sequence();

-- Call inside your own transaction: the event exists exactly when it commits.
CREATE OR REPLACE FUNCTION herald_publish(topic text, type text, data jsonb) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO herald_outbox (topic, type, data) VALUES (topic, coalesce(type, 'message'), coalesce(data, 'null'::jsonb)) RETURNING id
$$;
`;

/** Removes the outbox and everything that uses it. */
export const OUTBOX_UNINSTALL_SQL = `
DROP FUNCTION IF EXISTS herald_publish(text, text, jsonb);
DROP TABLE IF EXISTS herald_outbox CASCADE;
DROP TABLE IF EXISTS herald_outbox_cursor;
DROP FUNCTION IF EXISTS herald_outbox_sequence();
DROP SEQUENCE IF EXISTS herald_outbox_seq;
`;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain SQL identifier (so it can be spliced into DDL safely). */
export function assertIdentifier(name: string, what: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`${what} must be a plain identifier (letters, digits, _), got ${JSON.stringify(name)}`);
}

/** Settings of one captured table. */
export interface CaptureTable {
  table: string;
  /** Column whose value also names a per-row topic `<table>/<value>`. */
  key?: string;
}

/**
 * A trigger per table that turns each row change into outbox events: topic
 * `<table>` (and `<table>/<key>` with a key column), type insert/update/delete,
 * data `{table, action, data, old_data, timestamp}`. Going through the outbox
 * rather than NOTIFY means changes made while no hub listens are kept, commit
 * order is preserved, and rows of any size arrive whole.
 */
export function captureInstallSql(tables: readonly CaptureTable[]): string {
  return tables
    .map(({ table, key }) => {
      assertIdentifier(table, 'table');
      if (key !== undefined) assertIdentifier(key, 'key column');
      const perKey =
        key === undefined
          ? ''
          : `
  row_key := coalesce(to_jsonb(NEW), to_jsonb(OLD)) ->> '${key}';
  -- Only plain topic segments: a key with '/' or spaces would not name one row.
  IF row_key ~ '^[A-Za-z0-9._~:@=+-]+$' AND row_key NOT IN ('.', '..') THEN
    PERFORM herald_publish(TG_TABLE_NAME || '/' || row_key, lower(TG_OP), payload);
  END IF;`;
      return `
CREATE OR REPLACE FUNCTION herald_capture_${table}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  payload jsonb;
  row_key text;
BEGIN
  payload := jsonb_build_object(
    'table', TG_TABLE_NAME,
    'action', TG_OP,
    'data', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
    'old_data', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
    'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
  PERFORM herald_publish(TG_TABLE_NAME, lower(TG_OP), payload);${perKey}
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS herald_capture ON ${table};
CREATE TRIGGER herald_capture AFTER INSERT OR UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION herald_capture_${table}();
`;
    })
    .join('\n');
}

/** Removes the capture triggers and functions of the tables. */
export function captureDropSql(tables: readonly CaptureTable[]): string {
  return tables
    .map(({ table }) => {
      assertIdentifier(table, 'table');
      return `DROP TRIGGER IF EXISTS herald_capture ON ${table};\nDROP FUNCTION IF EXISTS herald_capture_${table}();\n`;
    })
    .join('');
}

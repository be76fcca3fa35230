/**
 * SQL that `herald pg ...` installs. Everything is created in the schema first on
 * the installer's search_path (`current_schema()`), and every name the hub relies on
 * is derived from that schema, so several Herald outboxes can share one database.
 *
 * The SQL works whatever search_path the sessions that later write have: each
 * statement is a DO block that reads the schema once, at install time, and splices
 * it (quoted with `format('%I')`) into every name, and every installed function runs
 * with its own `search_path = pg_catalog, pg_temp`. Without that, a capture trigger
 * fired by a session whose search_path is `pg_catalog` cannot find `herald_publish`,
 * and one whose search_path starts with another schema holding a `herald_outbox`
 * writes its rows into that schema's outbox, for another hub. Resolving the schema
 * in the database (rather than in the CLI) keeps one SQL text for running and for
 * `--print`, which can go into a migration run under any schema.
 */

/**
 * Checks the install schema (`s`) inside a DO block: there must be one (the first
 * search_path entry may name a schema that does not exist), and not a system one.
 */
const CHECK_SCHEMA = `
  IF s IS NULL THEN
    RAISE EXCEPTION 'herald: the search_path (%) names no existing schema to install into', current_setting('search_path')
      USING ERRCODE = 'invalid_schema_name';
  END IF;
  IF s IN ('pg_catalog', 'information_schema') OR left(s, 8) IN ('pg_temp_', 'pg_toast') THEN
    RAISE EXCEPTION 'herald: will not install into the system schema %; put your schema first on the search_path', s
      USING ERRCODE = 'invalid_schema_name';
  END IF;`;

/** The outbox: table, commit-order sequencing, wake-up NOTIFY and `herald_publish()`. */
export const OUTBOX_INSTALL_SQL = `
-- Herald's outbox, installed in the first schema of the search path.
DO $herald$
DECLARE
  s text := current_schema();
BEGIN${CHECK_SCHEMA}
  EXECUTE format($install$
CREATE SEQUENCE IF NOT EXISTS %1$I.herald_outbox_seq;

CREATE TABLE IF NOT EXISTS %1$I.herald_outbox (
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
CREATE TABLE IF NOT EXISTS %1$I.herald_outbox_cursor (
  name     text PRIMARY KEY,
  last_seq bigint NOT NULL DEFAULT 0
);
INSERT INTO %1$I.herald_outbox_cursor (name) VALUES ('relay') ON CONFLICT DO NOTHING;

-- Runs at commit (deferred). The transaction-scoped advisory lock is held until
-- this transaction ends, so a later-committing transaction cannot take a number
-- before this one is visible: seq order is commit order, and a reader that has
-- seen seq n has seen everything below n. It also wakes the relay.
CREATE OR REPLACE FUNCTION %1$I.herald_outbox_sequence() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_SCHEMA::text || '.herald_outbox.commit'));
  UPDATE %1$I.herald_outbox SET seq = nextval(%2$L::regclass) WHERE id = NEW.id;
  PERFORM pg_notify('herald_outbox.' || TG_TABLE_SCHEMA::text, '');
  RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS herald_outbox_sequence ON %1$I.herald_outbox;
CREATE CONSTRAINT TRIGGER herald_outbox_sequence
  AFTER INSERT ON %1$I.herald_outbox
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION %1$I.herald_outbox_sequence();

-- Call inside your own transaction: the event exists exactly when it commits.
CREATE OR REPLACE FUNCTION %1$I.herald_publish(topic text, type text, data jsonb) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
  INSERT INTO %1$I.herald_outbox (topic, type, data) VALUES (topic, coalesce(type, 'message'), coalesce(data, 'null'::jsonb)) RETURNING id
$fn$;
$install$, s, format('%I.herald_outbox_seq', s));
END
$herald$;
`;

/**
 * Removes the outbox and everything that uses it: the capture functions of the
 * schema go too (CASCADE drops their triggers), since a capture trigger left
 * behind would make every write to its table fail once herald_publish is gone.
 */
export const OUTBOX_UNINSTALL_SQL = `
DO $herald$
DECLARE
  s text := current_schema();
  capture text;
BEGIN
  IF s IS NULL THEN
    RETURN;
  END IF;
  FOR capture IN
    SELECT p.proname FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = s)
      AND left(p.proname, 15) = 'herald_capture_' AND p.pronargs = 0 AND p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype
  LOOP
    EXECUTE format('DROP FUNCTION %I.%I() CASCADE', s, capture);
  END LOOP;
  EXECUTE format($uninstall$
DROP FUNCTION IF EXISTS %1$I.herald_publish(text, text, jsonb);
DROP TABLE IF EXISTS %1$I.herald_outbox CASCADE;
DROP TABLE IF EXISTS %1$I.herald_outbox_cursor;
DROP FUNCTION IF EXISTS %1$I.herald_outbox_sequence();
DROP SEQUENCE IF EXISTS %1$I.herald_outbox_seq;
$uninstall$, s);
END
$herald$;
`;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain SQL identifier (so it can be spliced into DDL safely). */
export function assertIdentifier(name: string, what: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`${what} must be a plain identifier (letters, digits, _), got ${JSON.stringify(name)}`);
}

/** `name` as a quoted SQL identifier: exact whatever it contains (case, quotes, dots). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Settings of one captured table. */
export interface CaptureTable {
  table: string;
  /** Column whose value names the topic of each change instead: `<table>/<value>`. */
  key?: string;
}

/**
 * DO-block lines that set `target` to the schema-qualified, quoted name of `table`
 * as the installer's search_path finds it (the table may live in another schema
 * than the outbox), or leave it NULL. `table` is a checked plain identifier, spliced
 * unquoted so that it folds to lower case exactly as it did in unqualified DDL.
 */
function resolveTable(table: string): string {
  return `
  SELECT format('%I.%I', n.nspname, c.relname) INTO target
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = pg_catalog.to_regclass('${table}');`;
}

/**
 * A trigger per table that turns each row change into one outbox event: topic
 * `<table>`, or `<table>/<key>` with a key column, type insert/update/delete,
 * data `{table, action, data, old_data, timestamp}`. Going through the outbox
 * rather than NOTIFY means changes made while no hub listens are kept, commit
 * order is preserved, and rows of any size arrive whole. The function lives in the
 * outbox's schema and calls that schema's herald_publish by its qualified name.
 */
export function captureInstallSql(tables: readonly CaptureTable[]): string {
  return tables
    .map(({ table, key }) => {
      assertIdentifier(table, 'table');
      if (key !== undefined) assertIdentifier(key, 'key column');
      // With a key column each change is published once, to `<table>/<key>`, so a
      // table subscriber (`<table>/**`, which matches `<table>` too) and a row
      // subscriber (`<table>/<key>`) both get it exactly once. A key that is not
      // one plain topic segment (a '/' or a space in it) names no row topic: that
      // change goes to `<table>`.
      const publish =
        key === undefined
          ? `
  PERFORM %1$I.herald_publish(TG_TABLE_NAME::text, lower(TG_OP), payload);`
          : `
  row_key := coalesce(to_jsonb(NEW), to_jsonb(OLD)) ->> '${key}';
  IF row_key ~ '^[A-Za-z0-9._~:@=+-]+$' AND row_key NOT IN ('.', '..') THEN
    PERFORM %1$I.herald_publish(TG_TABLE_NAME || '/' || row_key, lower(TG_OP), payload);
  ELSE
    PERFORM %1$I.herald_publish(TG_TABLE_NAME::text, lower(TG_OP), payload);
  END IF;`;
      return `
-- Change capture of ${table}, through the outbox of the first schema of the search path.
DO $herald$
DECLARE
  s text := current_schema();
  target text;
BEGIN${CHECK_SCHEMA}${resolveTable(table)}
  IF target IS NULL THEN
    RAISE EXCEPTION 'herald: relation "${table}" does not exist (search_path %)', current_setting('search_path')
      USING ERRCODE = 'undefined_table';
  END IF;
  EXECUTE format($capture$
CREATE OR REPLACE FUNCTION %1$I.herald_capture_${table}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  payload jsonb;
  row_key text;
BEGIN
  payload := jsonb_build_object(
    'table', TG_TABLE_NAME,
    'action', TG_OP,
    'data', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
    'old_data', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
    'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));${publish}
  RETURN NULL;
END
$fn$;
DROP TRIGGER IF EXISTS herald_capture ON %2$s;
CREATE TRIGGER herald_capture AFTER INSERT OR UPDATE OR DELETE ON %2$s
  FOR EACH ROW EXECUTE FUNCTION %1$I.herald_capture_${table}();
$capture$, s, target);
END
$herald$;
`;
    })
    .join('\n');
}

/** Removes the capture triggers and functions of the tables. */
export function captureDropSql(tables: readonly CaptureTable[]): string {
  return tables
    .map(({ table }) => {
      assertIdentifier(table, 'table');
      return `
DO $herald$
DECLARE
  s text := current_schema();
  target text;
BEGIN${resolveTable(table)}
  IF target IS NOT NULL THEN
    EXECUTE format('DROP TRIGGER IF EXISTS herald_capture ON %s', target);
  END IF;
  IF s IS NOT NULL THEN
    EXECUTE format('DROP FUNCTION IF EXISTS %I.herald_capture_${table}()', s);
  END IF;
END
$herald$;
`;
    })
    .join('');
}

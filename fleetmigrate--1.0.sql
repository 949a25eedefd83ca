/* fleetmigrate--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION fleetmigrate" to load this file. \quit

/*
 * Objects are created in schema fleetmigrate (the control file's schema).
 * Every reference is schema-qualified; the extension machinery runs this
 * script with search_path = fleetmigrate, pg_temp.  Nothing that changes
 * state is executable by PUBLIC.  For a trusted install by a database owner,
 * the script runs as the bootstrap superuser and grants the installing role
 * (@extowner@) what it needs to use and delegate the extension.
 */

-- The schema must be fresh: owned by a role the installing role controls
-- (pg_dump recreates it, with its owner, before CREATE EXTENSION) and
-- empty, so nobody else can have planted or can later replace objects
DO $check$
DECLARE
    nsp oid := pg_catalog.to_regnamespace('fleetmigrate');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n
                    WHERE n.oid OPERATOR(pg_catalog.=) nsp
                      AND pg_catalog.pg_has_role('@extowner@'::pg_catalog.regrole::pg_catalog.oid,
                                                 n.nspowner, 'USAGE')) THEN
        RAISE EXCEPTION 'schema "fleetmigrate" is owned by another role'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The schema that holds the migration catalog must belong to the role installing the extension, or to a role it is a member of.',
                  HINT = 'Drop or rename the existing schema "fleetmigrate", then run CREATE EXTENSION again.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typnamespace OPERATOR(pg_catalog.=) nsp)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator WHERE oprnamespace OPERATOR(pg_catalog.=) nsp) THEN
        RAISE EXCEPTION 'schema "fleetmigrate" already contains objects'
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = 'The extension creates its catalog in a schema of its own, which must be empty.',
                  HINT = 'Move the objects out of schema "fleetmigrate" or drop it, then run CREATE EXTENSION again.';
    END IF;
END
$check$;

-- Natural sort key of a version (src/order.c)
CREATE FUNCTION fleetmigrate.version_key(version text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'fleetmigrate_version_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION fleetmigrate.version_key(text) IS
'Sort key of a migration version in natural order: runs of digits compare as numbers (9 < 10), zero padding is ignored (7 = 007)';

-- The catalog: one row per registered migration
CREATE TABLE fleetmigrate.migrations (
    version          text NOT NULL,
    name             text NOT NULL,
    sort_key         bytea NOT NULL
                     GENERATED ALWAYS AS (fleetmigrate.version_key(version)) STORED,
    up               text NOT NULL,
    down             text,
    verify           text,
    checksum         text NOT NULL,
    down_checksum    text,
    verify_checksum  text,
    statements       integer NOT NULL,
    transactional    boolean NOT NULL DEFAULT true,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'applied', 'failed', 'rolled_back', 'baseline')),
    applied_checksum text,
    applied_at       timestamptz,
    applied_by       text,
    duration_ms      double precision,
    out_of_order     boolean NOT NULL DEFAULT false,
    registered_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by    text NOT NULL,
    PRIMARY KEY (version, name)
);

CREATE INDEX migrations_order_idx
    ON fleetmigrate.migrations (sort_key, version COLLATE "C", name COLLATE "C");
CREATE INDEX migrations_pending_idx
    ON fleetmigrate.migrations (sort_key, version COLLATE "C", name COLLATE "C")
    WHERE state IN ('pending', 'failed', 'rolled_back');

COMMENT ON TABLE fleetmigrate.migrations IS
'fleetmigrate catalog: registered migrations, their scripts, SHA-256 checksums and current state';

-- The history: every event, append-only
CREATE TABLE fleetmigrate.events (
    id            bigserial PRIMARY KEY,
    version       text NOT NULL,
    name          text NOT NULL,
    event         text NOT NULL
                  CHECK (event IN ('applied', 'failed', 'rolled_back', 'baseline', 'repaired')),
    checksum      text,
    started_at    timestamptz NOT NULL,
    duration_ms   double precision,
    performed_by  text NOT NULL,
    session_user_name text NOT NULL DEFAULT pg_catalog."session_user"(),
    transaction_id xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    statements    integer,
    params        jsonb,
    sqlstate      text,
    error         text
);

CREATE INDEX events_migration_idx ON fleetmigrate.events (version, name, id);

COMMENT ON TABLE fleetmigrate.events IS
'fleetmigrate history: one row per event (applied, failed, rolled back, baseline, repaired), append-only';

-- pg_dump keeps the catalog and the history (and the id sequence)
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.events', '');
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.events_id_seq', '');

-- Views
CREATE VIEW fleetmigrate.status AS
SELECT m.version,
       m.name,
       m.state,
       m.applied_at,
       m.applied_by,
       m.duration_ms,
       CASE WHEN m.applied_checksum IS NULL THEN NULL
            ELSE m.applied_checksum OPERATOR(pg_catalog.=) m.checksum END AS checksum_ok,
       m.out_of_order,
       m.statements,
       m.transactional,
       m.checksum,
       m.registered_at
  FROM fleetmigrate.migrations m
 ORDER BY m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

COMMENT ON VIEW fleetmigrate.status IS
'One row per registered migration, in apply order: state, when and by whom it was applied, how long it took, whether its checksum still matches';

CREATE VIEW fleetmigrate.history AS
SELECT e.id,
       e.version,
       e.name,
       e.event,
       e.started_at,
       e.duration_ms,
       e.performed_by,
       e.session_user_name,
       e.transaction_id,
       e.checksum,
       e.statements,
       e.params,
       e.sqlstate,
       e.error
  FROM fleetmigrate.events e
 ORDER BY e.id;

COMMENT ON VIEW fleetmigrate.history IS
'Every fleetmigrate event in order: who applied (or failed, rolled back, baselined, repaired) which migration, when, how long, with which checksum';

-- Registering
CREATE FUNCTION fleetmigrate.register(version text, name text, up text,
                                      down text DEFAULT NULL,
                                      verify text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.register(text, text, text, text, text) IS
'Register a migration (up script, optional down and verify scripts); returns registered, unchanged or updated. Scripts are parsed now; applied migrations cannot be changed';

-- Applying
CREATE FUNCTION fleetmigrate.apply_pending(target text DEFAULT NULL,
                                           dry_run boolean DEFAULT false,
                                           params jsonb DEFAULT '{}',
                                           allow_destructive boolean DEFAULT false,
                                           wait boolean DEFAULT true)
RETURNS TABLE(version text, name text, status text,
              duration_ms double precision, statements integer, message text)
AS 'MODULE_PATHNAME', 'fleetmigrate_apply_pending'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean) IS
'Apply pending migrations in order, up to target, inside the calling transaction: all or nothing. dry_run executes and rolls back; wait => false skips when another run holds the lock';

-- Privileges: nothing for PUBLIC.  The functions write the catalog as the
-- tables' owner (src/catalog.c), so callers need EXECUTE on them and no
-- privilege on the tables: nobody but the owner writes the catalog or the
-- history directly.
REVOKE ALL ON FUNCTION fleetmigrate.register(text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON TABLE fleetmigrate.migrations, fleetmigrate.events,
                    fleetmigrate.status, fleetmigrate.history FROM PUBLIC;
REVOKE ALL ON SEQUENCE fleetmigrate.events_id_seq FROM PUBLIC;

-- The installing role (the database owner on hosted Postgres) may use the
-- extension and delegate its use ...
GRANT USAGE ON SCHEMA fleetmigrate TO @extowner@ WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text),
                          fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean)
    TO @extowner@ WITH GRANT OPTION;
GRANT SELECT ON TABLE fleetmigrate.status, fleetmigrate.history TO @extowner@ WITH GRANT OPTION;
-- ... and dump, restore and repair the catalog itself, but not rewrite the
-- history (events: no UPDATE or DELETE), and not hand table access on
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE fleetmigrate.migrations TO @extowner@;
GRANT SELECT, INSERT ON TABLE fleetmigrate.events TO @extowner@;
GRANT SELECT, UPDATE, USAGE ON SEQUENCE fleetmigrate.events_id_seq TO @extowner@;

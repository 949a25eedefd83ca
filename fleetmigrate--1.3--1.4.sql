/* fleetmigrate--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.4'" to load this file. \quit

/*
 * Bundles, drift and dependencies: register_bundle() and export_bundle()
 * (src/bundle.c), register_dir() (src/files.c), checksums over the
 * server's token stream, validate() and repair(), and per migration its
 * requirements, conflicts, declared parameters and flags.  As in the
 * earlier scripts every reference is schema-qualified, operators included.
 */

ALTER TABLE fleetmigrate.migrations
    ADD COLUMN requires text[] NOT NULL DEFAULT '{}',
    ADD COLUMN conflicts text[] NOT NULL DEFAULT '{}',
    ADD COLUMN params text[] NOT NULL DEFAULT '{}',
    ADD COLUMN repeatable boolean NOT NULL DEFAULT false,
    ADD COLUMN allow_destructive boolean NOT NULL DEFAULT false;

-- why a migration was repaired (and, later, other events that need one)
ALTER TABLE fleetmigrate.events ADD COLUMN reason text;

-- Checksums are taken over the scripts' tokens (src/parse.c), so that
-- white space and comments are not drift
CREATE FUNCTION fleetmigrate.checksum(script text)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_checksum'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION fleetmigrate.checksum(text) IS
'The checksum fleetmigrate records for a script: SHA-256 of its SQL tokens, so that white space and comments do not change it';

-- Existing rows get checksums by the new rule.  An applied migration whose
-- text still matched what ran keeps matching; one that had drifted keeps
-- its old checksum of what ran, and so stays reported.
UPDATE fleetmigrate.migrations
   SET applied_checksum = CASE
           WHEN applied_checksum OPERATOR(pg_catalog.=) checksum
           THEN fleetmigrate.checksum(up) ELSE applied_checksum END,
       checksum = fleetmigrate.checksum(up),
       down_checksum = fleetmigrate.checksum(down),
       verify_checksum = fleetmigrate.checksum(verify);

CREATE OR REPLACE VIEW fleetmigrate.status AS
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
       m.registered_at,
       m.statements_done,
       m.repeatable,
       m.requires,
       m.conflicts
  FROM fleetmigrate.migrations m
 ORDER BY m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

CREATE OR REPLACE VIEW fleetmigrate.history AS
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
       e.error,
       e.statement,
       e.line,
       e.reason
  FROM fleetmigrate.events e
 ORDER BY e.id;

-- register() gains requires, conflicts, params and flags.  The old one is
-- renamed, its grants copied to the new one, then dropped.
ALTER FUNCTION fleetmigrate.register(text, text, text, text, text)
    RENAME TO register_before_1_4;

CREATE FUNCTION fleetmigrate.register(version text, name text, up text,
                                      down text DEFAULT NULL,
                                      verify text DEFAULT NULL,
                                      requires text[] DEFAULT '{}',
                                      conflicts text[] DEFAULT '{}',
                                      params text[] DEFAULT '{}',
                                      repeatable boolean DEFAULT false,
                                      allow_destructive boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean) IS
'Register a migration (up script; optional down and verify scripts, requirements, conflicts, parameters, flags); returns registered, unchanged or updated. Scripts are parsed now; a changed up script of an applied migration is recorded as drift';

REVOKE ALL ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean) FROM PUBLIC;

DO $copy_grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT a.grantee::pg_catalog.regrole::pg_catalog.text AS grantee, a.is_grantable
          FROM pg_catalog.pg_proc p,
               LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=)
               'fleetmigrate.register_before_1_4(text, text, text, text, text)'::pg_catalog.regprocedure
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
    LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean) TO %s%s',
            g.grantee, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$copy_grants$;

DROP FUNCTION fleetmigrate.register_before_1_4(text, text, text, text, text);

-- Bundles: many migrations in one text (src/bundle.c)
CREATE FUNCTION fleetmigrate.register_bundle(bundle text)
RETURNS TABLE(version text, name text, outcome text)
AS 'MODULE_PATHNAME', 'fleetmigrate_register_bundle'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.register_bundle(text) IS
'Register every migration of a bundle ("-- migration: VERSION NAME" sections with "-- down" and "-- verify" parts and header lines), all or none; returns each one''s outcome';

CREATE FUNCTION fleetmigrate.export_bundle()
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_export_bundle'
LANGUAGE C STABLE;

COMMENT ON FUNCTION fleetmigrate.export_bundle() IS
'Every registered migration as one bundle, in apply order; register_bundle() of it into an empty catalog reproduces the catalog';

CREATE FUNCTION fleetmigrate.register_dir(path text)
RETURNS TABLE(version text, name text, outcome text)
AS 'MODULE_PATHNAME', 'fleetmigrate_register_dir'
LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION fleetmigrate.register_dir(text) IS
'Register every migration file of a server directory (NNN_name.up.sql with .down.sql and .verify.sql companions), all or none; superusers and members of pg_read_server_files only';

-- Drift
CREATE FUNCTION fleetmigrate.validate()
RETURNS TABLE(version text, name text, problem text, detail text)
AS 'MODULE_PATHNAME', 'fleetmigrate_validate'
LANGUAGE C STABLE;

COMMENT ON FUNCTION fleetmigrate.validate() IS
'Problems of the catalog: changed_after_apply, missing_from_catalog, out_of_order, unmet_requirement, conflict; no rows when all is well';

CREATE FUNCTION fleetmigrate.repair(version text, name text, reason text)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_repair'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.repair(text, text, text) IS
'Accept the registered up script of an applied migration as what the database has (after an edit reported by validate()); the reason is recorded in the history';

-- Privileges: nothing for PUBLIC but the pure checksum function; the
-- owner may use and delegate.
REVOKE ALL ON FUNCTION fleetmigrate.register_bundle(text), fleetmigrate.export_bundle(),
                       fleetmigrate.register_dir(text), fleetmigrate.validate(),
                       fleetmigrate.repair(text, text, text) FROM PUBLIC;

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.register_bundle(text), fleetmigrate.export_bundle(),'
        ' fleetmigrate.register_dir(text), fleetmigrate.validate(), fleetmigrate.repair(text, text, text)'
        ' TO %s WITH GRANT OPTION', owner);
END
$grant$;

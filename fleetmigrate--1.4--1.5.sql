/* fleetmigrate--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.5'" to load this file. \quit

/*
 * Plans checked before they run (requirements, conflicts, the
 * fleetmigrate.out_of_order setting, parameters), baseline(), repeatable
 * migrations, which run again, after the versioned ones, whenever their up
 * script changes, rollback() with its production guard, verify(),
 * param(), and errors a migration tolerates.  As in the earlier scripts every reference is
 * schema-qualified, operators included.
 */

-- Errors a migration tolerates (SQLSTATEs; each statement of its up script
-- then runs in a subtransaction of its own)
ALTER TABLE fleetmigrate.migrations
    ADD COLUMN tolerate text[] NOT NULL DEFAULT '{}';

-- register() gains tolerate.  The old one is renamed, its grants copied to
-- the new one, then dropped.
ALTER FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean)
    RENAME TO register_before_1_5;

CREATE FUNCTION fleetmigrate.register(version text, name text, up text,
                                      down text DEFAULT NULL,
                                      verify text DEFAULT NULL,
                                      requires text[] DEFAULT '{}',
                                      conflicts text[] DEFAULT '{}',
                                      params text[] DEFAULT '{}',
                                      repeatable boolean DEFAULT false,
                                      allow_destructive boolean DEFAULT false,
                                      tolerate text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_register'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]) IS
'Register a migration (up script; optional down and verify scripts, requirements, conflicts, parameters, flags, tolerated SQLSTATEs); returns registered, unchanged or updated. Scripts are parsed now; a changed up script of an applied migration is recorded as drift';

REVOKE ALL ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]) FROM PUBLIC;

DO $copy_grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT a.grantee::pg_catalog.regrole::pg_catalog.text AS grantee, a.is_grantable
          FROM pg_catalog.pg_proc p,
               LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=)
               'fleetmigrate.register_before_1_5(text, text, text, text, text, text[], text[], text[], boolean, boolean)'::pg_catalog.regprocedure
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
    LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION fleetmigrate.register(text, text, text, text, text, text[], text[], text[], boolean, boolean, text[]) TO %s%s',
            g.grantee, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$copy_grants$;

DROP FUNCTION fleetmigrate.register_before_1_5(text, text, text, text, text, text[], text[], text[], boolean, boolean);

-- Repeatable migrations run after the versioned ones: the runner reads the
-- pending migrations in this order, one at a time in migrate().
DROP INDEX fleetmigrate.migrations_pending_idx;
CREATE INDEX migrations_pending_idx
    ON fleetmigrate.migrations (repeatable, sort_key, version COLLATE "C", name COLLATE "C")
    WHERE state IN ('pending', 'failed', 'rolled_back');

-- In apply order (repeatable migrations last); checksum_ok only for what is
-- in effect: a repeatable migration whose script changed is pending again,
-- not drift.
CREATE OR REPLACE VIEW fleetmigrate.status AS
SELECT m.version,
       m.name,
       m.state,
       m.applied_at,
       m.applied_by,
       m.duration_ms,
       CASE WHEN m.applied_checksum IS NULL
                 OR m.state OPERATOR(pg_catalog.<>) ALL (ARRAY['applied', 'baseline'])
            THEN NULL
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
 ORDER BY m.repeatable, m.sort_key, m.version COLLATE "C", m.name COLLATE "C";

CREATE FUNCTION fleetmigrate.baseline(version text, reason text DEFAULT NULL)
RETURNS TABLE(version text, name text)
AS 'MODULE_PATHNAME', 'fleetmigrate_baseline'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.baseline(text, text) IS
'Mark every registered migration up to a version as applied without running it (state baseline, recorded in the history), for a database whose schema predates fleetmigrate; refused if any of them is already applied';

-- Rollback in development, verification at any time, parameters
CREATE FUNCTION fleetmigrate.rollback(target text DEFAULT NULL,
                                      steps integer DEFAULT 1,
                                      force boolean DEFAULT false,
                                      confirm text DEFAULT NULL)
RETURNS TABLE(version text, name text, status text,
              duration_ms double precision, message text)
AS 'MODULE_PATHNAME', 'fleetmigrate_rollback'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.rollback(text, integer, boolean, text) IS
'Run the down scripts of the newest applied migrations (steps, or every one after target), newest first, all or none; refused when fleetmigrate.environment is production unless force => true and confirm => current_database()';

CREATE FUNCTION fleetmigrate.verify(version text DEFAULT NULL)
RETURNS TABLE(version text, name text, ok boolean, message text)
AS 'MODULE_PATHNAME', 'fleetmigrate_verify'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.verify(text) IS
'Run the verify scripts of applied migrations again, each in a subtransaction that is rolled back, and report each result';

CREATE FUNCTION fleetmigrate.rehearse_rollback(target text DEFAULT NULL,
                                               params jsonb DEFAULT '{}')
RETURNS TABLE(version text, name text, status text, message text)
AS 'MODULE_PATHNAME', 'fleetmigrate_rehearse_rollback'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.rehearse_rollback(text, jsonb) IS
'For each pending migration: apply it, run its down script, apply it again, and report whether the schema came back the same each time; everything is rolled back';

CREATE FUNCTION fleetmigrate.param(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'fleetmigrate_param'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION fleetmigrate.param(text) IS
'Inside a running migration, the value supplied for one of its declared parameters (apply_pending(params => ...)), as text; an error anywhere else';

REVOKE ALL ON FUNCTION fleetmigrate.baseline(text, text),
                       fleetmigrate.rollback(text, integer, boolean, text),
                       fleetmigrate.verify(text),
                       fleetmigrate.rehearse_rollback(text, jsonb) FROM PUBLIC;
-- param() reads a value the caller of apply_pending() supplied; it changes nothing
GRANT EXECUTE ON FUNCTION fleetmigrate.param(text) TO PUBLIC;

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.baseline(text, text),'
        ' fleetmigrate.rollback(text, integer, boolean, text), fleetmigrate.verify(text),'
        ' fleetmigrate.rehearse_rollback(text, jsonb) TO %s WITH GRANT OPTION',
        owner);
END
$grant$;

/* fleetmigrate--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.2'" to load this file. \quit

/*
 * Unattended runs: CALL fleetmigrate.migrate() (src/migrate.c), which
 * commits after each migration and records a failure durably; the run log
 * and its view fleetmigrate.runs; scheduling with pg_cron.  As in the
 * earlier scripts every reference is schema-qualified, operators included.
 */

-- Where a failed migration stopped: statement number and line of its up
-- script
ALTER TABLE fleetmigrate.events
    ADD COLUMN statement integer,
    ADD COLUMN line integer;

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
       e.line
  FROM fleetmigrate.events e
 ORDER BY e.id;

-- The run log: one row per CALL fleetmigrate.migrate(), written as it goes
-- (each row is committed before the first migration runs)
CREATE TABLE fleetmigrate.run_log (
    id             bigserial PRIMARY KEY,
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at    timestamptz,
    run_by         text NOT NULL,
    started_by     text NOT NULL CHECK (started_by IN ('manual', 'pg_cron')),
    target         text,
    applied        integer NOT NULL DEFAULT 0,
    outcome        text NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running', 'succeeded', 'nothing_pending',
                                      'failed', 'skipped')),
    failed_version text,
    failed_name    text,
    sqlstate       text,
    error          text,
    pid            integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);

COMMENT ON TABLE fleetmigrate.run_log IS
'fleetmigrate run log: one row per CALL fleetmigrate.migrate(); read it through the view fleetmigrate.runs';

SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('fleetmigrate.run_log_id_seq', '');

-- A run is 'running' while its session holds the run's advisory lock
-- (classid 1179470162, "FMIR"; objid the run id; src/migrate.c); a run
-- whose session went away without finishing (killed, crashed) shows as
-- 'interrupted'.  No lock outlives its session, so nothing needs clearing.
CREATE VIEW fleetmigrate.runs AS
SELECT r.id,
       r.started_at,
       r.finished_at,
       r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
       r.run_by,
       r.started_by,
       r.target,
       r.applied,
       CASE WHEN r.outcome OPERATOR(pg_catalog.=) 'running' AND NOT EXISTS (
                SELECT 1
                  FROM pg_catalog.pg_locks l
                 WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
                   AND l.granted
                   AND l.database OPERATOR(pg_catalog.=)
                       (SELECT d.oid FROM pg_catalog.pg_database d
                         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                   AND l.classid OPERATOR(pg_catalog.=) 1179470162::pg_catalog.oid
                   AND l.objid OPERATOR(pg_catalog.=)
                       (r.id OPERATOR(pg_catalog.%) 4294967296)::pg_catalog.oid
                   AND l.objsubid OPERATOR(pg_catalog.=) 2)
            THEN 'interrupted'
            ELSE r.outcome END AS outcome,
       r.failed_version,
       r.failed_name,
       r.sqlstate,
       r.error,
       r.pid
  FROM fleetmigrate.run_log r
 ORDER BY r.id;

COMMENT ON VIEW fleetmigrate.runs IS
'One row per CALL fleetmigrate.migrate(), manual or scheduled: when, by whom, how it was started, how many migrations it applied, outcome (running, succeeded, nothing_pending, failed, skipped, interrupted) and error';

-- The unattended runner
CREATE PROCEDURE fleetmigrate.migrate(target text DEFAULT NULL,
                                      params jsonb DEFAULT '{}',
                                      allow_destructive boolean DEFAULT false,
                                      wait boolean DEFAULT true,
                                      started_by text DEFAULT 'manual',
                                      INOUT run_id bigint DEFAULT NULL,
                                      INOUT applied integer DEFAULT NULL,
                                      INOUT outcome text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'fleetmigrate_migrate'
LANGUAGE C;

COMMENT ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text) IS
'Apply pending migrations up to target, one transaction per migration (CALL it on its own, not in a transaction block); a failure is rolled back, recorded in the history and the run log, then raised. Returns the run id, the number applied and the outcome';

-- Scheduling with pg_cron: one job per database owner role, named
-- "fleetmigrate", running CALL fleetmigrate.migrate(started_by => 'pg_cron')
-- in this database as the role that scheduled it.
CREATE FUNCTION fleetmigrate.schedule(schedule text DEFAULT '*/5 * * * *')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $schedule$
DECLARE
    job bigint;
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule cannot be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give a cron expression such as ''*/5 * * * *'' (every five minutes).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'fleetmigrate.schedule() creates a pg_cron job that runs CALL fleetmigrate.migrate().',
                  HINT = 'Install pg_cron (Debian: apt-get install postgresql-15-cron), add it to shared_preload_libraries with cron.database_name set to this database, restart the server and run CREATE EXTENSION pg_cron. On Supabase, enable pg_cron under Database, Extensions.';
    END IF;
    BEGIN
        job := cron.schedule('fleetmigrate', schedule,
                             'CALL fleetmigrate.migrate(started_by => ''pg_cron'')');
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'invalid schedule "%"', schedule
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = SQLERRM,
                  HINT = 'Use cron syntax (minute hour day-of-month month day-of-week), for example ''*/5 * * * *'' for every five minutes, or pg_cron''s ''30 seconds''.';
    END;
    RETURN job;
END
$schedule$;

COMMENT ON FUNCTION fleetmigrate.schedule(text) IS
'Create or update the pg_cron job "fleetmigrate" that runs CALL fleetmigrate.migrate() in this database as the calling role; returns the job id';

CREATE FUNCTION fleetmigrate.unschedule()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $unschedule$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Without pg_cron there is no schedule to remove.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM cron.job j
                    WHERE j.jobname OPERATOR(pg_catalog.=) 'fleetmigrate'
                      AND j.username OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule('fleetmigrate');
END
$unschedule$;

COMMENT ON FUNCTION fleetmigrate.unschedule() IS
'Remove the pg_cron job "fleetmigrate" of the calling role; false if there was none';

-- Privileges: nothing for PUBLIC; the owner may use and delegate.
REVOKE ALL ON TABLE fleetmigrate.run_log, fleetmigrate.runs FROM PUBLIC;
REVOKE ALL ON SEQUENCE fleetmigrate.run_log_id_seq FROM PUBLIC;
REVOKE ALL ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION fleetmigrate.schedule(text), fleetmigrate.unschedule() FROM PUBLIC;

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON PROCEDURE fleetmigrate.migrate(text, jsonb, boolean, boolean, text, bigint, integer, text)'
        ' TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.schedule(text), fleetmigrate.unschedule()'
        ' TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.runs TO %s WITH GRANT OPTION', owner);
    -- the run log may be pruned and restored, not rewritten
    EXECUTE pg_catalog.format(
        'GRANT SELECT, INSERT, DELETE ON TABLE fleetmigrate.run_log TO %s', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT, UPDATE, USAGE ON SEQUENCE fleetmigrate.run_log_id_seq TO %s', owner);
END
$grant$;

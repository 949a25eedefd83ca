/* fleetmigrate--1.10--1.11.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION fleetmigrate UPDATE TO '1.11'" to load this file. \quit

/*
 * Beyond one server: standbys, failover and many databases (issue 21).  As
 * in the earlier scripts every reference is schema-qualified, operators
 * included.  Each area has a section of its own below.
 */

-- ---- standbys that have caught up (issue 21, item 3) ------------------------
-- (And the view runs on a hot standby: a standby cannot see the primary's
-- sessions or locks, so a run the primary records as 'running' is shown as
-- recorded, not as 'interrupted'; once promoted, the server tells again.)
-- With fleetmigrate.wait_for_standbys set, a run of migrate() that applied
-- migrations waits after its last commit until every connected standby has
-- replayed it (src/standbys.c), and records here how far each one got:
-- [{"standby": name, "pid": n, "replayed": bool, "replayed_ms": ms or
-- "behind_bytes": n, "replay_lag_ms": pg_stat_replication.replay_lag}].
ALTER TABLE fleetmigrate.run_log ADD COLUMN standbys jsonb;

-- a database owner may set it with ALTER DATABASE before the library is
-- loaded, as the other settings (see the 1.8--1.9 script)
GRANT SET ON PARAMETER fleetmigrate.wait_for_standbys TO PUBLIC;

COMMENT ON COLUMN fleetmigrate.run_log.standbys IS
'With fleetmigrate.wait_for_standbys: each standby the run waited for after its last commit, whether it replayed the run (and in how many ms) or how many bytes it was behind when the wait timed out, and its replay lag; NULL when the run did not wait';

CREATE OR REPLACE VIEW fleetmigrate.runs AS
SELECT r.id,
       r.started_at,
       r.finished_at,
       r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
       r.run_by,
       r.started_by,
       r.target,
       r.applied,
       CASE WHEN r.outcome OPERATOR(pg_catalog.=) 'running'
                 AND NOT pg_catalog.pg_is_in_recovery() AND NOT EXISTS (
                SELECT 1
                  FROM pg_catalog.pg_locks l
                 WHERE l.locktype OPERATOR(pg_catalog.=) 'object'
                   AND l.granted
                   AND l.database OPERATOR(pg_catalog.=)
                       (SELECT d.oid FROM pg_catalog.pg_database d
                         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                   AND l.classid OPERATOR(pg_catalog.=) 1179470162::pg_catalog.oid
                   AND l.objid OPERATOR(pg_catalog.=)
                       (r.id OPERATOR(pg_catalog.%) 4294967296)::pg_catalog.oid
                   AND l.objsubid OPERATOR(pg_catalog.=) 0)
            THEN 'interrupted'
            ELSE r.outcome END AS outcome,
       r.failed_version,
       r.failed_name,
       r.sqlstate,
       r.error,
       r.pid,
       r.destroyed,
       r.run_count,
       r.last_run_at,
       r.standbys
  FROM fleetmigrate.run_log r
 ORDER BY r.id;

COMMENT ON VIEW fleetmigrate.runs IS
'One record per CALL fleetmigrate.migrate(), manual or scheduled, or per stretch of runs that applied nothing and found the same (run_count, last_run_at): when, by whom, how it was started, how many migrations it applied, outcome (running, succeeded, nothing_pending, blocked, failed, skipped, stopped, interrupted), the failed or blocked migration and why, and (with fleetmigrate.wait_for_standbys) how far each standby got; records older than fleetmigrate.run_log_retention are deleted';

-- ---- many databases, one schedule (issue 21 item 4) -------------------------
-- From the database where pg_cron lives (cron.database_name), schedule() and
-- unschedule() also take a database: one pg_cron job per (database, role),
-- created with cron.schedule_in_database() and named "fleetmigrate <database>"
-- ("fleetmigrate" plus the md5 of the name when that would not fit in 63
-- bytes).  The job of the current database keeps its name "fleetmigrate".
-- New overloads rather than an added DEFAULT NULL argument: replacing
-- schedule(text) would drop the grants made on it, and two functions that
-- both accept schedule('...') would make that call ambiguous.  Both forms,
-- old and new, refuse on a hot standby and, called from a database that is
-- not pg_cron's, say where to call them.  The view scheduled_databases reads
-- each scheduled database's own run log over a libpq connection made the
-- way pg_cron makes its own (src/remote.c).

CREATE OR REPLACE FUNCTION fleetmigrate.schedule(schedule text DEFAULT '*/5 * * * *')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $schedule$
DECLARE
    job bigint;
    cron_db text;
BEGIN
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot apply migrations on a standby; connect to the primary'
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'schedule() changes the database, and this server is a hot standby: it only replays what the primary writes.',
                  HINT = 'Run it on the primary. Here fleetmigrate.status, history, summary, runs, progress, validate(), lint() and plan() work, read-only.';
    END IF;
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule cannot be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give a cron expression such as ''*/5 * * * *'' (every five minutes).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        -- where pg_cron lives; pg_cron shows the name only to those who may
        -- read every setting ('': it is loaded, in a database not named here)
        BEGIN
            cron_db := pg_catalog.current_setting('cron.database_name', true);
        EXCEPTION WHEN insufficient_privilege THEN
            cron_db := '';
        END;
        IF cron_db IS NOT NULL AND cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database() THEN
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'pg_cron runs in another database of this server (cron.database_name), and its jobs are created there.'
                                    ELSE pg_catalog.format('pg_cron runs in database "%s" (cron.database_name), and its jobs are created there.', cron_db) END,
                      HINT = pg_catalog.format('Connect to %s, install fleetmigrate there too, and call fleetmigrate.schedule(%L, database => %L).',
                                               CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'that database (a superuser can tell you which)'
                                                    ELSE pg_catalog.format('database "%s"', cron_db) END, schedule, pg_catalog.current_database());
        END IF;
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

CREATE OR REPLACE FUNCTION fleetmigrate.unschedule()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $unschedule$
DECLARE
    cron_db text;
BEGIN
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot apply migrations on a standby; connect to the primary'
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'unschedule() changes the database, and this server is a hot standby: it only replays what the primary writes.',
                  HINT = 'Run it on the primary. Here fleetmigrate.status, history, summary, runs, progress, validate(), lint() and plan() work, read-only.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        -- where pg_cron lives; pg_cron shows the name only to those who may
        -- read every setting ('': it is loaded, in a database not named here)
        BEGIN
            cron_db := pg_catalog.current_setting('cron.database_name', true);
        EXCEPTION WHEN insufficient_privilege THEN
            cron_db := '';
        END;
        IF cron_db IS NOT NULL AND cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database() THEN
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'pg_cron runs in another database of this server (cron.database_name), and its jobs are there.'
                                    ELSE pg_catalog.format('pg_cron runs in database "%s" (cron.database_name), and its jobs are there.', cron_db) END,
                      HINT = pg_catalog.format('Connect to %s and call fleetmigrate.unschedule(database => %L).',
                                               CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'that database (a superuser can tell you which)'
                                                    ELSE pg_catalog.format('database "%s"', cron_db) END, pg_catalog.current_database());
        END IF;
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

CREATE FUNCTION fleetmigrate.schedule(schedule text, database text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $schedule$
DECLARE
    job bigint;
    cron_db text;
    target text := COALESCE(database, pg_catalog.current_database());
    command constant text := 'CALL fleetmigrate.migrate(started_by => ''pg_cron'')';
    job_name text;
    job_db text;
    allow_conn boolean;
BEGIN
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot apply migrations on a standby; connect to the primary'
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'schedule() changes the database, and this server is a hot standby: it only replays what the primary writes.',
                  HINT = 'Run it on the primary. Here fleetmigrate.status, history, summary, runs, progress, validate(), lint() and plan() work, read-only.';
    END IF;
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule cannot be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give a cron expression such as ''*/5 * * * *'' (every five minutes).';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        -- where pg_cron lives; pg_cron shows the name only to those who may
        -- read every setting ('': it is loaded, in a database not named here)
        BEGIN
            cron_db := pg_catalog.current_setting('cron.database_name', true);
        EXCEPTION WHEN insufficient_privilege THEN
            cron_db := '';
        END;
        IF cron_db IS NOT NULL AND cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database() THEN
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'pg_cron runs in another database of this server (cron.database_name), and its jobs are created there.'
                                    ELSE pg_catalog.format('pg_cron runs in database "%s" (cron.database_name), and its jobs are created there.', cron_db) END,
                      HINT = pg_catalog.format('Connect to %s, install fleetmigrate there too, and call fleetmigrate.schedule(%L, database => %L).',
                                               CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'that database (a superuser can tell you which)'
                                                    ELSE pg_catalog.format('database "%s"', cron_db) END, schedule, target);
        END IF;
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'fleetmigrate.schedule() creates a pg_cron job that runs CALL fleetmigrate.migrate().',
                  HINT = 'Install pg_cron (Debian: apt-get install postgresql-15-cron), add it to shared_preload_libraries with cron.database_name set to this database, restart the server and run CREATE EXTENSION pg_cron. On Supabase, enable pg_cron under Database, Extensions.';
    END IF;

    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron''s functions and its table of jobs are in schema cron.',
                  HINT = pg_catalog.format('A superuser can allow role "%s": GRANT USAGE ON SCHEMA cron TO %I.',
                                           CURRENT_USER, CURRENT_USER);
    END IF;

    IF target OPERATOR(pg_catalog.=) pg_catalog.current_database() THEN
        -- this database's own job, as schedule(schedule) makes it
        BEGIN
            job := cron.schedule('fleetmigrate', schedule, command);
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE EXCEPTION 'invalid schedule "%"', schedule
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = SQLERRM,
                      HINT = 'Use cron syntax (minute hour day-of-month month day-of-week), for example ''*/5 * * * *'' for every five minutes, or pg_cron''s ''30 seconds''.';
        END;
        RETURN job;
    END IF;

    -- another database: pg_cron connects to it as this role to run the job
    SELECT d.datallowconn INTO allow_conn
      FROM pg_catalog.pg_database d
     WHERE d.datname OPERATOR(pg_catalog.=) target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'database "%" does not exist', target
            USING ERRCODE = 'invalid_catalog_name',
                  HINT = 'Give the name of a database of this cluster, as SELECT datname FROM pg_database lists them.';
    END IF;
    IF NOT allow_conn THEN
        RAISE EXCEPTION 'database "%" does not allow connections', target
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_cron connects to the database to run the job.',
                  HINT = pg_catalog.format('Allow connections with ALTER DATABASE %I ALLOW_CONNECTIONS true, then schedule it again.', target);
    END IF;
    IF NOT pg_catalog.has_database_privilege(target, 'CONNECT') THEN
        RAISE EXCEPTION 'permission denied for database "%"', target
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('pg_cron runs the job as role "%s", which has no CONNECT privilege on database "%s".', CURRENT_USER, target),
                  HINT = pg_catalog.format('Grant it (GRANT CONNECT ON DATABASE %I TO %I), or schedule the job as a role that has it.', target, CURRENT_USER);
    END IF;
    IF NOT (SELECT r.rolcanlogin FROM pg_catalog.pg_roles r
             WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RAISE EXCEPTION 'role "%" cannot log in', CURRENT_USER
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron connects to the database as the role that scheduled the job.',
                  HINT = 'Call schedule() as a role with the LOGIN attribute.';
    END IF;
    IF pg_catalog.to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NULL THEN
        RAISE EXCEPTION 'pg_cron % cannot schedule jobs in other databases',
                        (SELECT e.extversion FROM pg_catalog.pg_extension e
                          WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron')
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'cron.schedule_in_database() came with pg_cron 1.4.',
                  HINT = 'Install pg_cron 1.4 or later and run ALTER EXTENSION pg_cron UPDATE.';
    END IF;
    IF NOT pg_catalog.has_function_privilege(
               'cron.schedule_in_database(text,text,text,text,text,boolean)', 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied for function cron.schedule_in_database'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron grants it to no one: its administrator decides who may schedule jobs in other databases.',
                  HINT = pg_catalog.format('A superuser can allow role "%s": GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO %I.',
                                           CURRENT_USER, CURRENT_USER);
    END IF;

    job_name := CASE WHEN pg_catalog.octet_length(target) OPERATOR(pg_catalog.<=) 50
                     THEN pg_catalog.concat('fleetmigrate ', target)
                     ELSE pg_catalog.concat('fleetmigrate ', pg_catalog.md5(target)) END;
    SELECT j.database INTO job_db
      FROM cron.job j
     WHERE j.jobname OPERATOR(pg_catalog.=) job_name
       AND j.username OPERATOR(pg_catalog.=) CURRENT_USER;
    IF FOUND AND job_db OPERATOR(pg_catalog.<>) target THEN
        RAISE EXCEPTION 'pg_cron job "%" of role "%" runs in database "%", not in "%"',
                        job_name, CURRENT_USER, job_db, target
            USING ERRCODE = 'duplicate_object',
                  DETAIL = 'schedule() names the job of each database after the database, and a job of that name already runs elsewhere.',
                  HINT = pg_catalog.format('Remove or rename that job (SELECT cron.unschedule(%L)), then schedule again.', job_name);
    END IF;
    BEGIN
        job := cron.schedule_in_database(job_name, schedule, command, target);
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'invalid schedule "%"', schedule
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = SQLERRM,
                  HINT = 'Use cron syntax (minute hour day-of-month month day-of-week), for example ''*/5 * * * *'' for every five minutes, or pg_cron''s ''30 seconds''.';
    END;
    RETURN job;
END
$schedule$;

CREATE FUNCTION fleetmigrate.unschedule(database text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $unschedule$
DECLARE
    cron_db text;
    target text := COALESCE(database, pg_catalog.current_database());
    job_name text;
    job bigint;
BEGIN
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot apply migrations on a standby; connect to the primary'
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'unschedule() changes the database, and this server is a hot standby: it only replays what the primary writes.',
                  HINT = 'Run it on the primary. Here fleetmigrate.status, history, summary, runs, progress, validate(), lint() and plan() work, read-only.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        -- where pg_cron lives; pg_cron shows the name only to those who may
        -- read every setting ('': it is loaded, in a database not named here)
        BEGIN
            cron_db := pg_catalog.current_setting('cron.database_name', true);
        EXCEPTION WHEN insufficient_privilege THEN
            cron_db := '';
        END;
        IF cron_db IS NOT NULL AND cron_db OPERATOR(pg_catalog.<>) pg_catalog.current_database() THEN
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'pg_cron runs in another database of this server (cron.database_name), and its jobs are there.'
                                    ELSE pg_catalog.format('pg_cron runs in database "%s" (cron.database_name), and its jobs are there.', cron_db) END,
                      HINT = pg_catalog.format('Connect to %s and call fleetmigrate.unschedule(database => %L).',
                                               CASE WHEN cron_db OPERATOR(pg_catalog.=) '' THEN 'that database (a superuser can tell you which)'
                                                    ELSE pg_catalog.format('database "%s"', cron_db) END, target);
        END IF;
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Without pg_cron there is no schedule to remove.';
    END IF;
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron''s functions and its table of jobs are in schema cron.',
                  HINT = pg_catalog.format('A superuser can allow role "%s": GRANT USAGE ON SCHEMA cron TO %I.',
                                           CURRENT_USER, CURRENT_USER);
    END IF;
    -- no check that the database exists: a dropped database's job is removed too
    job_name := CASE WHEN target OPERATOR(pg_catalog.=) pg_catalog.current_database()
                     THEN 'fleetmigrate'
                     WHEN pg_catalog.octet_length(target) OPERATOR(pg_catalog.<=) 50
                     THEN pg_catalog.concat('fleetmigrate ', target)
                     ELSE pg_catalog.concat('fleetmigrate ', pg_catalog.md5(target)) END;
    SELECT j.jobid INTO job
      FROM cron.job j
     WHERE j.jobname OPERATOR(pg_catalog.=) job_name
       AND j.username OPERATOR(pg_catalog.=) CURRENT_USER
       AND j.database OPERATOR(pg_catalog.=) target;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule(job);
END
$unschedule$;

COMMENT ON FUNCTION fleetmigrate.schedule(text) IS
'Create or update the pg_cron job "fleetmigrate" that runs CALL fleetmigrate.migrate() in this database as the calling role; returns the job id';
COMMENT ON FUNCTION fleetmigrate.unschedule() IS
'Remove the pg_cron job "fleetmigrate" of the calling role; false if there was none';
COMMENT ON FUNCTION fleetmigrate.schedule(text, text) IS
'From the database where pg_cron lives: create or update the pg_cron job that runs CALL fleetmigrate.migrate() in the given database (this one when NULL) as the calling role, one job per database and role; returns the job id';
COMMENT ON FUNCTION fleetmigrate.unschedule(text) IS
'From the database where pg_cron lives: remove the calling role''s fleetmigrate job of the given database (this one when NULL); false if there was none';

-- What the view reads: one row per fleetmigrate job of the reader in
-- cron.job, with pg_cron's last attempt and the database's own record of
-- its runs, read over a connection to it (src/schedule.c, src/remote.c).
CREATE FUNCTION fleetmigrate.read_scheduled_databases(
    OUT database text, OUT username text, OUT jobid bigint, OUT schedule text,
    OUT active boolean, OUT cron_status text, OUT cron_message text,
    OUT cron_start timestamptz, OUT cron_end timestamptz,
    OUT extversion text, OUT applied bigint, OUT pending bigint, OUT failed bigint,
    OUT drift bigint, OUT last_run_id bigint, OUT last_started_by text,
    OUT last_outcome text, OUT last_run_at timestamptz, OUT last_applied integer,
    OUT last_failed_version text, OUT last_failed_name text, OUT last_error text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'fleetmigrate_read_scheduled_databases'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION fleetmigrate.read_scheduled_databases() IS
'What the view fleetmigrate.scheduled_databases shows: for each fleetmigrate pg_cron job of the caller (of everyone, for a superuser), the job, pg_cron''s last attempt, and that database''s own summary and last run, read over a read-only connection to it as the job''s role; error says why a database could not be read';

CREATE VIEW fleetmigrate.scheduled_databases AS
SELECT r.database, r.username, r.jobid, r.schedule, r.active,
       r.cron_status, r.cron_message, r.cron_start, r.cron_end,
       r.extversion, r.applied, r.pending, r.failed, r.drift,
       r.last_run_id, r.last_started_by, r.last_outcome, r.last_run_at, r.last_applied,
       r.last_failed_version, r.last_failed_name, r.last_error, r.error
  FROM fleetmigrate.read_scheduled_databases() r;

COMMENT ON VIEW fleetmigrate.scheduled_databases IS
'In the database where pg_cron lives: one row per database with a fleetmigrate job of the reader (every role''s, for a superuser): the job''s schedule and active flag, pg_cron''s last attempt, and the database''s own record, read over a connection to it: its fleetmigrate version, applied, pending, failed and drifted migrations (its summary) and its last run (its runs); error says why the database could not be read';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.database IS
'The database the job runs in';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.username IS
'The role pg_cron runs the job as, and the view connects as';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.jobid IS
'The job''s id in cron.job (for cron.alter_job())';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.schedule IS
'The job''s cron schedule';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.active IS
'Whether pg_cron runs the job';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.cron_status IS
'pg_cron''s status of its last attempt (cron.job_run_details): succeeded, failed, running, ...; NULL before the first';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.cron_message IS
'pg_cron''s message of its last attempt: the error when it could not connect or the call failed';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.cron_start IS
'When pg_cron''s last attempt started';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.cron_end IS
'When pg_cron''s last attempt ended';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.extversion IS
'The version of fleetmigrate installed in the database (NULL: not installed, or not read)';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.applied IS
'Migrations applied or baselined, as the database''s fleetmigrate.summary counts them';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.pending IS
'Migrations pending or rolled back, as the database''s fleetmigrate.summary counts them';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.failed IS
'Migrations whose last attempt failed, as the database''s fleetmigrate.summary counts them';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.drift IS
'Applied migrations whose registered up script changed since, as the database''s fleetmigrate.summary counts them';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_run_id IS
'The id of the database''s last record in fleetmigrate.runs (NULL: no run yet)';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_started_by IS
'How that run was started: pg_cron or manual';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_outcome IS
'That run''s outcome: succeeded, nothing_pending, blocked, failed, running, interrupted, ...';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_run_at IS
'When the last run that record stands for finished (its start while it runs)';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_applied IS
'How many migrations that run applied';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_failed_version IS
'The version of the migration that failed or blocked that run';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_failed_name IS
'The name of the migration that failed or blocked that run';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.last_error IS
'Why that run failed or was blocked';
COMMENT ON COLUMN fleetmigrate.scheduled_databases.error IS
'Why the database could not be read (it does not exist, the role cannot connect, fleetmigrate is not installed there, ...); NULL when it was read';

REVOKE ALL ON FUNCTION fleetmigrate.schedule(text, text), fleetmigrate.unschedule(text),
                       fleetmigrate.read_scheduled_databases() FROM PUBLIC;
REVOKE ALL ON TABLE fleetmigrate.scheduled_databases FROM PUBLIC;

-- Not @extowner@: on ALTER EXTENSION UPDATE that is whoever runs the update.
DO $grant$
DECLARE
    owner text := (SELECT e.extowner::pg_catalog.regrole::pg_catalog.text
                     FROM pg_catalog.pg_extension e
                    WHERE e.extname OPERATOR(pg_catalog.=) 'fleetmigrate');
BEGIN
    EXECUTE pg_catalog.format(
        'GRANT EXECUTE ON FUNCTION fleetmigrate.schedule(text, text), fleetmigrate.unschedule(text),'
        ' fleetmigrate.read_scheduled_databases() TO %s WITH GRANT OPTION', owner);
    EXECUTE pg_catalog.format(
        'GRANT SELECT ON TABLE fleetmigrate.scheduled_databases TO %s WITH GRANT OPTION', owner);
END
$grant$;

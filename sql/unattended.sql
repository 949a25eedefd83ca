-- unattended: CALL fleetmigrate.migrate(started_by => 'pg_cron'), what a
-- schedule runs, keeps moving: it applies what it can up to the first
-- blocked migration, records the blocked state once, summarizes idle runs
-- and keeps the run log bounded (fleetmigrate.run_log_retention)
CREATE EXTENSION fleetmigrate;
SET client_min_messages = notice;
\set VERBOSITY terse

-- two migrations that need nothing, then one that needs a parameter, then
-- one more after it
SELECT fleetmigrate.register('001', 'create_a', 'CREATE TABLE una_a (id int);');
SELECT fleetmigrate.register('002', 'create_b', 'CREATE TABLE una_b (id int);');
SELECT fleetmigrate.register('003', 'admin', $$CREATE TABLE una_admin AS
SELECT fleetmigrate.param('admin_user_id') AS admin_id;$$, params => '{admin_user_id}');
SELECT fleetmigrate.register('004', 'create_d', 'CREATE TABLE una_d (id int);');

-- interactive calls refuse the whole plan, as before: apply_pending() and
-- a manual migrate()
SELECT * FROM fleetmigrate.apply_pending();
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status;

-- a scheduled run applies 001 and 002, stops before 003 (never skipping
-- over it: 004 waits too) and reports it, without an error (its NOTICEs
-- have durations; the blocked one is shown below)
SET client_min_messages = warning;
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SET client_min_messages = notice;
SELECT version, state FROM fleetmigrate.status;
SELECT started_by, applied, outcome, failed_version, failed_name, sqlstate, error, run_count
  FROM fleetmigrate.runs ORDER BY id;

-- ten more ticks while blocked: one record, counted, no new failure
SET client_min_messages = warning;
DO $$
DECLARE r bigint; n integer; o text;
BEGIN
  FOR i IN 1..10 LOOP
    CALL fleetmigrate.migrate(NULL, '{}', false, true, 'pg_cron', r, n, o);
  END LOOP;
END $$;
SET client_min_messages = notice;
SELECT started_by, applied, outcome, failed_version, run_count,
       last_run_at >= finished_at AS last_after_first
  FROM fleetmigrate.runs ORDER BY id;
SELECT count(*) AS failed_events FROM fleetmigrate.history WHERE event = 'failed';

-- the NOTICE says which migration, why and what to do; the run id returned
-- is the record that counts the run
\set VERBOSITY default
CALL fleetmigrate.migrate(started_by => 'pg_cron');
\set VERBOSITY terse
SELECT run_count FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;

-- the value supplied: the manual run applies 003 and 004
SET client_min_messages = warning;
CALL fleetmigrate.migrate(params => '{"admin_user_id": "42"}');
SET client_min_messages = notice;
SELECT version, state FROM fleetmigrate.status;
SELECT admin_id FROM una_admin;

-- idle ticks: one summarized record per idle stretch
SET client_min_messages = warning;
DO $$
DECLARE r bigint; n integer; o text;
BEGIN
  FOR i IN 1..5 LOOP
    CALL fleetmigrate.migrate(NULL, '{}', false, true, 'pg_cron', r, n, o);
  END LOOP;
END $$;
SET client_min_messages = notice;
SELECT started_by, applied, outcome, run_count FROM fleetmigrate.runs ORDER BY id;
-- a run that applies something ends the stretch; the next idle one starts
-- another
SELECT fleetmigrate.register('005', 'create_e', 'CREATE TABLE una_e (id int);');
SET client_min_messages = warning;
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SET client_min_messages = notice;
CALL fleetmigrate.migrate(started_by => 'pg_cron');
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SELECT started_by, applied, outcome, run_count FROM fleetmigrate.runs ORDER BY id;

-- blocked by the consent to data loss that a scheduled run cannot give:
-- 006 applies, 007 (dropping a table that holds rows) waits
INSERT INTO una_e VALUES (1), (2);
SELECT fleetmigrate.register('006', 'index_e', 'CREATE INDEX una_e_id ON una_e (id);');
SELECT fleetmigrate.register('007', 'drop_e', 'DROP TABLE una_e;', allow_destructive => true);
SET client_min_messages = warning;
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SET client_min_messages = notice;
SELECT version, state FROM fleetmigrate.status WHERE version >= '006';
SELECT applied, outcome, failed_version, failed_name, sqlstate, split_part(error, E'\n', 1) AS error
  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
\set VERBOSITY default
CALL fleetmigrate.migrate(started_by => 'pg_cron');
\set VERBOSITY terse
-- a different reason for the same migration is a new record
SELECT fleetmigrate.register('007', 'drop_e', 'DROP TABLE una_e;
SELECT fleetmigrate.param(''why'');', allow_destructive => true, params => '{why}');
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SELECT applied, outcome, failed_version, sqlstate, run_count
  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 2;
-- consent at the call, by hand
SET client_min_messages = warning;
CALL fleetmigrate.migrate(params => '{"why": "cleanup"}', allow_data_loss => ARRAY['007']);
SET client_min_messages = notice;
SELECT version, state FROM fleetmigrate.status WHERE version >= '006';

-- an unmet requirement blocks the migration that has it
SELECT fleetmigrate.register('009', 'after', 'SELECT 1');
SELECT fleetmigrate.register('008', 'needs_x', 'SELECT 1', requires => '{009}');
CALL fleetmigrate.migrate(started_by => 'pg_cron');
-- two conflicting migrations: neither runs, the earlier one is reported
SELECT fleetmigrate.unregister('008', 'needs_x');
SELECT fleetmigrate.register('010', 'pick_me', 'SELECT 1');
SELECT fleetmigrate.register('011', 'or_me', 'SELECT 1', conflicts => '{010}');
SET client_min_messages = warning;
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SET client_min_messages = notice;
SELECT version, state FROM fleetmigrate.status WHERE version >= '008';
SELECT applied, outcome, failed_version, failed_name, split_part(error, E'\n', 1) AS error
  FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SELECT fleetmigrate.unregister('011', 'or_me');

-- what the call supplies is still checked against the whole plan: a value
-- no pending migration declares fails the run, recorded and raised
CALL fleetmigrate.migrate(params => '{"nobody": "x"}', started_by => 'pg_cron');
SELECT outcome, sqlstate FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SET client_min_messages = warning;
CALL fleetmigrate.migrate(started_by => 'pg_cron');
SET client_min_messages = notice;

-- retention: records whose last run is older than the setting are deleted
-- by the next run; the history is not
SELECT count(*) AS events_before FROM fleetmigrate.history \gset
UPDATE fleetmigrate.run_log
   SET started_at = started_at - interval '3 days',
       finished_at = finished_at - interval '3 days',
       last_run_at = last_run_at - interval '3 days'
 WHERE id < (SELECT max(id) FROM fleetmigrate.run_log);
SET fleetmigrate.run_log_retention = '2d';
SHOW fleetmigrate.run_log_retention;
SELECT count(*) > 1 AS many FROM fleetmigrate.runs;
CALL fleetmigrate.migrate();
SELECT outcome, run_count FROM fleetmigrate.runs ORDER BY id;
SELECT count(*) = :events_before AS history_kept FROM fleetmigrate.history;
-- 0 keeps every record
SET fleetmigrate.run_log_retention = 0;
UPDATE fleetmigrate.run_log SET started_at = started_at - interval '10 years',
       finished_at = finished_at - interval '10 years', last_run_at = NULL;
SELECT fleetmigrate.register('012', 'one_more', 'SELECT 1');
SET client_min_messages = warning;
CALL fleetmigrate.migrate();
SET client_min_messages = notice;
SELECT count(*) AS records FROM fleetmigrate.runs;
RESET fleetmigrate.run_log_retention;
SHOW fleetmigrate.run_log_retention;

-- bad values for the setting (the messages differ between server versions)
\set VERBOSITY sqlstate
SET fleetmigrate.run_log_retention = -1;
SET fleetmigrate.run_log_retention = 'forever';
SET fleetmigrate.run_log_retention = '1 fortnight';
SET fleetmigrate.run_log_retention = '10000000000';
SET fleetmigrate.run_log_retention = '25000d';
SET fleetmigrate.run_log_retention = '';
\set VERBOSITY terse
-- a retention shorter than a minute is what it says
SET fleetmigrate.run_log_retention = '5s';
SHOW fleetmigrate.run_log_retention;
RESET fleetmigrate.run_log_retention;

DROP EXTENSION fleetmigrate;
DROP TABLE una_a, una_b, una_admin, una_d;

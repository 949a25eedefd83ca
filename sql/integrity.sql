-- integrity: the runner against the code it runs.  Migration and verify
-- scripts can neither take the runner's locks, hold them past the run, nor
-- release them.
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
\set VERBOSITY terse

CREATE VIEW runner_locks AS
SELECT classid, objid, mode, granted, pid = pg_backend_pid() AS mine
  FROM pg_locks
 WHERE locktype = 'object' AND classid IN (1179470151, 1179470162)
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database());

-- the runner lock is not an advisory lock: a migration that releases every
-- advisory lock still runs under the runner lock, and one that takes the
-- old advisory key takes only an advisory lock of its own
SELECT fleetmigrate.register('001', 'unlock_all', $$SELECT pg_advisory_unlock_all();
DO $d$BEGIN
  IF NOT EXISTS (SELECT 1 FROM runner_locks WHERE objid = 1 AND mine AND granted) THEN
    RAISE EXCEPTION 'the runner lock was released by migration code';
  END IF;
END$d$;
SELECT pg_advisory_lock(1179470151, 1);
SELECT pg_advisory_lock(1179470162, 1);
CREATE TABLE integrity_a (id int);$$,
    verify => $$SELECT EXISTS (SELECT 1 FROM runner_locks WHERE objid = 1 AND mine AND granted)
  FROM (SELECT pg_advisory_unlock_all()) AS unlocked$$);
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status;
SELECT outcome, applied FROM fleetmigrate.runs ORDER BY id;
-- after the run no runner lock is left (the verify script released the
-- advisory locks the migration took)
SELECT count(*) AS runner_locks_left FROM runner_locks;
SELECT classid, objid, objsubid FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY 1, 2;
SELECT pg_advisory_unlock_all();

-- the same inside apply_pending(): the runner lock is held until the end
-- of the caller's transaction, whatever the migration does
SELECT fleetmigrate.register('002', 'unlock_all_again', $$SELECT pg_advisory_unlock_all();
CREATE TABLE integrity_b (id int);$$);
BEGIN;
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT objid, mode, granted, mine FROM runner_locks;
COMMIT;
SELECT count(*) AS runner_locks_left FROM runner_locks;

-- while migrate() runs, its run shows as running, not interrupted, even
-- when migration code released every advisory lock
SELECT fleetmigrate.register('003', 'look_at_run', $$SELECT pg_advisory_unlock_all();
CREATE TABLE integrity_c AS SELECT outcome FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;$$);
CALL fleetmigrate.migrate();
SELECT outcome FROM integrity_c;

-- a run applies exactly the plan it checked.  Migration code that
-- registers a later migration of the plan again (here: with a DROP TABLE
-- that needs consent) does not get it run: the run stops before it
CREATE TABLE integrity_keep (id int);
INSERT INTO integrity_keep SELECT generate_series(1, 1000);
SELECT fleetmigrate.register('004', 'registers_005', $$CREATE TABLE integrity_d (id int);
SELECT fleetmigrate.register('005', 'later', 'DROP TABLE integrity_keep');$$);
SELECT fleetmigrate.register('005', 'later', 'CREATE TABLE integrity_e (id int)');
SELECT fleetmigrate.register('006', 'after_later', 'CREATE TABLE integrity_f (id int)');
SELECT version, status, message FROM fleetmigrate.apply_pending();
SELECT version, state FROM fleetmigrate.status WHERE version >= '004';
SELECT count(*) AS rows_kept FROM integrity_keep;
-- the next run checks the new plan: the DROP needs consent
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT fleetmigrate.register('005', 'later', 'CREATE TABLE integrity_e (id int)');

-- the same with migrate(): the run stops, says why, and what ran stays
SELECT fleetmigrate.register('007', 'registers_008', $$CREATE TABLE integrity_g (id int);
SELECT fleetmigrate.register('008', 'later_too', 'DROP TABLE integrity_keep');$$);
SELECT fleetmigrate.register('008', 'later_too', 'CREATE TABLE integrity_h (id int)');
SELECT fleetmigrate.register('008', 'zz_last', 'SELECT 1');
CALL fleetmigrate.migrate();
SELECT applied, outcome, error FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SELECT version, name, state FROM fleetmigrate.status WHERE version >= '004';
SELECT count(*) AS rows_kept FROM integrity_keep;
SELECT fleetmigrate.register('008', 'later_too', 'CREATE TABLE integrity_h (id int)');
CALL fleetmigrate.migrate();
SELECT version, name, state FROM fleetmigrate.status WHERE version >= '004';

-- a script edited in the catalog behind register()'s back does not run:
-- apply_pending() refuses it, migrate() records the refusal
SELECT fleetmigrate.register('009', 'edited', 'CREATE TABLE integrity_i (id int)');
UPDATE fleetmigrate.migrations SET up = 'CREATE TABLE integrity_tampered (id int)' WHERE version = '009';
SELECT version, status FROM fleetmigrate.apply_pending();
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status WHERE version = '009';
SELECT outcome, failed_version FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SELECT to_regclass('integrity_tampered') IS NULL AS not_run;
SELECT fleetmigrate.register('009', 'edited', 'CREATE TABLE integrity_i (id int)');
UPDATE fleetmigrate.migrations SET verify = 'SELECT false' WHERE version = '009';
SELECT version, status FROM fleetmigrate.apply_pending();
UPDATE fleetmigrate.migrations SET verify = NULL WHERE version = '009';
SELECT version, status FROM fleetmigrate.apply_pending();

-- an applied versioned migration can never run again: it cannot become
-- repeatable
SELECT fleetmigrate.register('009', 'edited', 'CREATE TABLE IF NOT EXISTS integrity_i (id int, x int)', repeatable => true);
SELECT version, state, repeatable FROM fleetmigrate.status WHERE version = '009';
SELECT version, status FROM fleetmigrate.apply_pending();

-- a secret parameter's value never reaches the client, the history or the
-- run log, even when an error message quotes it
SELECT fleetmigrate.register('010', 'uses_secret', 'SELECT fleetmigrate.param(''token'')::int',
                             params => '{secret token, plain}');
SELECT version, status FROM fleetmigrate.apply_pending(params => '{"token": "hunter2-s3cr3t", "plain": "visible"}');
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true, params => '{"token": "hunter2-s3cr3t", "plain": "visible"}');
CALL fleetmigrate.migrate(params => '{"token": "hunter2-s3cr3t", "plain": "visible"}');
SELECT event, error FROM fleetmigrate.history WHERE version = '010';
SELECT outcome, error FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;
SELECT count(*) AS leaks FROM fleetmigrate.events WHERE error LIKE '%hunter2%' OR params::text LIKE '%hunter2%';
SELECT count(*) AS leaks FROM fleetmigrate.run_log WHERE error LIKE '%hunter2%';
DELETE FROM fleetmigrate.migrations WHERE version = '010';
-- nor a function that runs with another role's privileges: a SECURITY
-- DEFINER function of another role that a migration calls (through a
-- trigger, a default, a view) cannot read it
CREATE ROLE regress_integrity_other;
CREATE TABLE integrity_stolen (v text);
GRANT INSERT ON integrity_stolen TO regress_integrity_other;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_integrity_other;
GRANT EXECUTE ON FUNCTION fleetmigrate.param(text) TO regress_integrity_other;
CREATE FUNCTION integrity_steal() RETURNS void LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$ INSERT INTO public.integrity_stolen SELECT fleetmigrate.param('token') $$;
ALTER FUNCTION integrity_steal() OWNER TO regress_integrity_other;
SELECT fleetmigrate.register('010', 'calls_definer', 'SELECT integrity_steal()',
                             params => '{secret token}');
SELECT version, status FROM fleetmigrate.apply_pending(params => '{"token": "hunter2-s3cr3t"}');
SELECT count(*) AS stolen FROM integrity_stolen;
DELETE FROM fleetmigrate.migrations WHERE version = '010';
DROP FUNCTION integrity_steal();
DROP TABLE integrity_stolen;
REVOKE ALL ON SCHEMA fleetmigrate FROM regress_integrity_other;
REVOKE ALL ON FUNCTION fleetmigrate.param(text) FROM regress_integrity_other;
DROP ROLE regress_integrity_other;

-- a migration cannot drop or recreate the extension that runs it: a clear
-- error, and the statement is rolled back with the migration
-- (since 1.10 the drop also needs consent: the extension's tables, the
-- history among them, go with it; the calls below give it)
SELECT fleetmigrate.register('011', 'recreates_extension', 'DROP EXTENSION fleetmigrate; CREATE EXTENSION fleetmigrate;');
SELECT version, status FROM fleetmigrate.apply_pending();
SELECT version, status FROM fleetmigrate.apply_pending(allow_data_loss => ARRAY['011']);
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['011']);
SELECT fleetmigrate.register('011', 'recreates_extension', 'DROP EXTENSION fleetmigrate CASCADE;');
SELECT version, status FROM fleetmigrate.apply_pending(dry_run => true);
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['011']);
SELECT version, state FROM fleetmigrate.status WHERE version = '011';
SELECT event, sqlstate FROM fleetmigrate.history WHERE version = '011' ORDER BY id;
DELETE FROM fleetmigrate.migrations WHERE version = '011';

DROP VIEW runner_locks;
DROP TABLE integrity_a, integrity_b, integrity_c, integrity_d, integrity_e,
  integrity_f, integrity_g, integrity_h, integrity_i, integrity_keep;
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;

-- migrate: CALL fleetmigrate.migrate(), the unattended runner: one
-- transaction per migration, failures recorded durably, the run log
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;
DROP TABLE IF EXISTS mig_a, mig_b, mig_c;
CREATE ROLE regress_mig_app;

SELECT fleetmigrate.register('001', 'create_a', 'CREATE TABLE mig_a (id int);');
SELECT fleetmigrate.register('002', 'create_b', $$CREATE TABLE mig_b (id int);
INSERT INTO mig_b VALUES (1);
INSERT INTO mig_b VALUES (1 / 0);$$);
SELECT fleetmigrate.register('003', 'create_c', 'CREATE TABLE mig_c (id int);');

-- nothing run yet
SELECT * FROM fleetmigrate.runs;

-- 001 commits on its own; 002 fails: rolled back, recorded, then raised
CALL fleetmigrate.migrate();
SELECT version, name, state FROM fleetmigrate.status;
SELECT to_regclass('mig_a') IS NOT NULL AS a_exists, to_regclass('mig_b') IS NOT NULL AS b_exists;
SELECT version, name, event, sqlstate, statement, line, error, performed_by = current_user AS by_me
  FROM fleetmigrate.history ORDER BY id;
SELECT id, run_by = current_user AS by_me, started_by, target, applied, outcome,
       failed_version, failed_name, sqlstate, error, finished_at >= started_at AS finished
  FROM fleetmigrate.runs;

-- the body is fixed (a failed migration was never applied: it may change);
-- the next run retries it and goes on
SELECT fleetmigrate.register('002', 'create_b', $$CREATE TABLE mig_b (id int);
INSERT INTO mig_b VALUES (1);$$);
CALL fleetmigrate.migrate();
SELECT version, name, state FROM fleetmigrate.status;
SELECT count(*) AS b_rows FROM mig_b;

-- nothing pending: a cheap run that still leaves a row
CALL fleetmigrate.migrate();
SELECT id, applied, outcome, failed_version FROM fleetmigrate.runs ORDER BY id;

-- a target stops early
SELECT fleetmigrate.register('004', 'd', 'CREATE TABLE mig_d (id int);');
SELECT fleetmigrate.register('005', 'e', 'CREATE TABLE mig_e (id int);');
CALL fleetmigrate.migrate(target => '4');
SELECT version, state FROM fleetmigrate.status WHERE version >= '004';

-- bad input: a clear error, and nothing run
BEGIN;
CALL fleetmigrate.migrate();
ROLLBACK;
CREATE FUNCTION call_migrate() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r bigint; n integer; o text;
BEGIN CALL fleetmigrate.migrate(NULL, '{}', false, true, 'manual', r, n, o); END $$;
SELECT call_migrate();
DROP FUNCTION call_migrate();
CALL fleetmigrate.migrate(started_by => 'cron');
CALL fleetmigrate.migrate(wait => NULL);
CALL fleetmigrate.migrate(params => '{"admin_user_id": "x"}');
CALL fleetmigrate.migrate(target => '999');
SELECT version, state FROM fleetmigrate.status WHERE version = '005';

-- a non-transactional migration: apply_pending() refuses the whole plan
-- before running anything
SELECT fleetmigrate.register('006', 'index_e', 'CREATE INDEX CONCURRENTLY mig_e_id ON mig_e (id);');
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, state FROM fleetmigrate.status WHERE version >= '005';

-- migrate() runs it, statement by statement, in a background worker, as the
-- calling role and with its search_path
CREATE SCHEMA regress_mig_s;
GRANT CREATE, USAGE ON SCHEMA regress_mig_s TO regress_mig_app;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_mig_app;
GRANT EXECUTE ON PROCEDURE fleetmigrate.migrate TO regress_mig_app;
SELECT fleetmigrate.register('007', 'nontx', $$CREATE TABLE nt_a AS SELECT current_user AS who;
VACUUM nt_a;
CREATE TABLE nt_b (id int);
DO $w$BEGIN RAISE WARNING 'relayed from the worker at its own level'; END$w$;$$);
SET ROLE regress_mig_app;
SET search_path = regress_mig_s, public;
CALL fleetmigrate.migrate(target => '007');
RESET search_path;
RESET ROLE;
SELECT version, state, statements_done, transactional FROM fleetmigrate.status WHERE version >= '006';
SELECT indisvalid FROM pg_index WHERE indexrelid = 'regress_mig_s.mig_e_id'::regclass;
SELECT who, pg_get_userbyid(relowner) AS owner
  FROM regress_mig_s.nt_a, pg_class WHERE oid = 'regress_mig_s.nt_a'::regclass;
SELECT applied, outcome FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;

-- a failure part way: the statements before it stay done, and the error
-- names the migration, statement and line
SELECT fleetmigrate.register('008', 'nontx_fail', $$CREATE TABLE nt_c (id int);
CREATE INDEX CONCURRENTLY nt_c_x ON nt_c (no_such_column);
CREATE TABLE nt_d (id int);$$);
CALL fleetmigrate.migrate();
SELECT version, state, statements_done FROM fleetmigrate.status WHERE version = '008';
SELECT to_regclass('nt_c') IS NOT NULL AS c_exists, to_regclass('nt_d') IS NOT NULL AS d_exists;
SELECT version, event, sqlstate, statement, line, error
  FROM fleetmigrate.history WHERE version = '008';
-- fixed: the next run resumes at statement 2 (statement 1 would fail again)
SELECT fleetmigrate.register('008', 'nontx_fail', $$CREATE TABLE nt_c (id int);
CREATE INDEX CONCURRENTLY nt_c_id ON nt_c (id);
CREATE TABLE nt_d (id int);$$);
SELECT version, state, statements_done FROM fleetmigrate.status WHERE version = '008';
CALL fleetmigrate.migrate();
SELECT version, state, statements_done FROM fleetmigrate.status WHERE version = '008';
SELECT indisvalid FROM pg_index WHERE indexrelid = 'nt_c_id'::regclass;

-- a partly-run migration keeps its identity: changing a statement that
-- already ran, or making it transactional, is refused; fixing the statement
-- that failed is not, and the next run goes on from it
SELECT fleetmigrate.register('009', 'nontx_redo', $$CREATE TABLE nt_e (id int);
VACUUM nt_e;
SELECT 1 / 0;$$);
CALL fleetmigrate.migrate();
SELECT fleetmigrate.register('009', 'nontx_redo', $$CREATE TABLE IF NOT EXISTS nt_e (id int, x int);
VACUUM nt_e;
SELECT 1;$$);
SELECT fleetmigrate.register('009', 'nontx_redo', $$CREATE TABLE nt_e (id int);
SELECT 1;$$);
SELECT version, state, statements_done, transactional FROM fleetmigrate.status WHERE version = '009';
SELECT fleetmigrate.register('009', 'nontx_redo', $$CREATE TABLE nt_e (id int);
VACUUM nt_e;
SELECT 1;$$);
SELECT version, state, statements_done FROM fleetmigrate.status WHERE version = '009';
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status WHERE version = '009';

-- late-merged migrations: out of order against the last one applied,
-- also one applied earlier in the same run
SELECT fleetmigrate.register('020', 'late_base', 'SELECT 1');
CALL fleetmigrate.migrate();
SELECT fleetmigrate.register('015', 'late_a', 'SELECT 1');
SELECT fleetmigrate.register('016', 'late_b', 'SELECT 1');
SELECT fleetmigrate.register('025', 'after', 'SELECT 1');
SELECT fleetmigrate.register('030', 'after_2', 'SELECT 1');
CALL fleetmigrate.migrate();
SELECT version, name, state, out_of_order FROM fleetmigrate.status
 WHERE version >= '015' ORDER BY version;

-- without pg_cron in this database
SELECT fleetmigrate.schedule();
SELECT fleetmigrate.unschedule();

-- a role without the right
SET ROLE regress_mig_app;
CALL fleetmigrate.migrate();
SELECT fleetmigrate.schedule('* * * * *');
SELECT * FROM fleetmigrate.runs;
RESET ROLE;

-- clean up
DROP EXTENSION fleetmigrate;
DROP SCHEMA fleetmigrate;
DROP TABLE mig_a, mig_b, mig_c, mig_d, nt_c, nt_d, nt_e;
DROP SCHEMA regress_mig_s CASCADE;
DROP ROLE regress_mig_app;

-- Consent for destructive migrations: apply_pending() and migrate() refuse,
-- before running anything, a plan with a destructive statement unless the
-- migration was registered with allow_destructive or the call passes
-- allow_destructive => true, which cover only objects that are absent or
-- empty; data that exists needs the call to name the migration in
-- allow_data_loss (sql/consent.sql has the rest).  The consent is recorded
-- in the history.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS fleetmigrate;
CREATE TABLE ds_results (id int PRIMARY KEY, score int);
INSERT INTO ds_results VALUES (1, 10), (2, 20);
CREATE TABLE ds_users (id int PRIMARY KEY, email text, legacy text);

-- The seeds' 019_recreate_results_tables.sql, and a harmless one before it
SELECT fleetmigrate.register('018', 'add_index', 'CREATE INDEX ds_users_email ON ds_users (email)');
SELECT fleetmigrate.register('019', 'recreate_results_tables', $m$
-- Warning: This drops existing results tables!
DROP TABLE IF EXISTS ds_results;
CREATE TABLE ds_results (id int PRIMARY KEY, score numeric);
$m$);
SELECT fleetmigrate.register('020', 'cleanup', $m$
ALTER TABLE ds_users DROP COLUMN legacy;
DELETE FROM ds_users;
-- a function body that mentions DROP TABLE is not a statement
CREATE FUNCTION ds_reset() RETURNS void LANGUAGE sql AS 'DROP TABLE ds_users';
$m$);

-- status shows the worst lint finding of each pending migration
SELECT version, name, state, lint, allow_destructive FROM fleetmigrate.status;

-- refused before anything runs: every destructive statement is listed
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, state FROM fleetmigrate.status;
SELECT count(*) AS results_rows FROM ds_results;
-- up to a target before the destructive ones: nothing to consent to
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '018');

-- a dry run shows the findings instead of refusing
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true);

-- migrate() refuses too, and records the refused run
CALL fleetmigrate.migrate();
SELECT outcome, applied, error FROM fleetmigrate.runs ORDER BY id DESC LIMIT 1;

-- consent at registration, for 019 only: 020 still needs it
SELECT fleetmigrate.register('019', 'recreate_results_tables', $m$
-- Warning: This drops existing results tables!
DROP TABLE IF EXISTS ds_results;
CREATE TABLE ds_results (id int PRIMARY KEY, score numeric);
$m$, allow_destructive => true);
SELECT * FROM fleetmigrate.apply_pending();
-- registration consent covers only what is absent or empty: ds_results has rows
SELECT version, name, status FROM fleetmigrate.apply_pending(target => '019');
-- the call names the migration: those rows may go
SELECT version, name, status, message
  FROM fleetmigrate.apply_pending(target => '019', allow_data_loss => ARRAY['019']);

-- consent in the call
BEGIN;
SELECT version, name, status FROM fleetmigrate.apply_pending(allow_destructive => true);
ROLLBACK;
CALL fleetmigrate.migrate(allow_destructive => true);

-- the history says who consented to what
SELECT version, event, consent, destroyed FROM fleetmigrate.history ORDER BY id;
SELECT count(*) AS users_left FROM ds_users;

-- Issue 20: migrate() judges as apply_pending() does (sql/consent.sql): a
-- view dropped and created again needs no consent; a DELETE inside a WITH
-- query is refused without it; the dry run names a lock held across work
CREATE TABLE ds_orders (id int);
INSERT INTO ds_orders VALUES (1), (2);
CREATE VIEW ds_orders_v AS SELECT id FROM ds_orders;
SELECT fleetmigrate.register('020a', 'replace_view', $m$
DROP VIEW ds_orders_v;
CREATE VIEW ds_orders_v AS SELECT id, id * 2 AS twice FROM ds_orders;
$m$);
CALL fleetmigrate.migrate();
SELECT * FROM ds_orders_v ORDER BY id;
SELECT fleetmigrate.register('020b', 'purge_in_cte', 'WITH d AS (DELETE FROM ds_orders RETURNING id) SELECT count(*) FROM d');
CALL fleetmigrate.migrate();
SELECT count(*) AS orders_left FROM ds_orders;
CALL fleetmigrate.migrate(allow_data_loss => ARRAY['020b']);
SELECT count(*) AS orders_left FROM ds_orders;
SELECT version, consent, destroyed FROM fleetmigrate.history WHERE version IN ('020a', '020b') ORDER BY id;
SELECT fleetmigrate.register('020c', 'backfill', $m$
ALTER TABLE ds_orders ADD COLUMN twice int;
UPDATE ds_orders SET twice = id * 2 WHERE twice IS NULL;
$m$);
SELECT version, status, message FROM fleetmigrate.apply_pending(dry_run => true);
SELECT version, status FROM fleetmigrate.apply_pending();
DROP VIEW ds_orders_v;
DROP TABLE ds_orders;

-- bad input
SELECT * FROM fleetmigrate.apply_pending(allow_destructive => NULL);
CALL fleetmigrate.migrate(allow_destructive => NULL);
SELECT * FROM fleetmigrate.lint('DROP TABLE');
SELECT * FROM fleetmigrate.lint(NULL);
SELECT * FROM fleetmigrate.lint('');

-- the lock settings and their bounds
SHOW fleetmigrate.lock_timeout;
SHOW fleetmigrate.lock_retries;
SHOW fleetmigrate.statement_timeout;
SET fleetmigrate.lock_retries = -1;
SET fleetmigrate.lock_timeout = 'soon';
SET fleetmigrate.lock_nonsense = 1;

-- statement_timeout applies to each migration statement
SET fleetmigrate.statement_timeout = '100ms';
SELECT fleetmigrate.register('021', 'slow', 'SELECT pg_sleep(2)');
SELECT * FROM fleetmigrate.apply_pending();
SELECT version, state FROM fleetmigrate.status WHERE version = '021';
-- the caller's own statement_timeout is back afterwards
SHOW statement_timeout;
RESET fleetmigrate.statement_timeout;

DROP FUNCTION ds_reset();
DROP TABLE ds_results, ds_users;
DROP EXTENSION fleetmigrate;

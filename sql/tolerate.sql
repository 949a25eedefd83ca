-- tolerate: a legacy idempotent script adopted as a migration may declare
-- SQLSTATEs it tolerates; a statement failing with one of them is skipped
-- with a NOTICE (its own subtransaction is rolled back), anything else fails
CREATE EXTENSION fleetmigrate;
SET client_min_messages = warning;

-- the seed's "column already exists: partially applied before" case
CREATE TABLE tol_users (id int PRIMARY KEY, auth_tier text);
SELECT * FROM fleetmigrate.register_bundle($b$
-- migration: 001 progressive_auth
-- tolerate: 42701, 42p07
ALTER TABLE tol_users ADD COLUMN auth_tier text;
ALTER TABLE tol_users ADD COLUMN upgraded_at timestamptz;
CREATE TABLE tol_users (id int);
CREATE TABLE tol_history (user_id int, tier text);
$b$);
SELECT version, tolerate FROM fleetmigrate.migrations;
-- the skips are NOTICEs (shown by a dry run, whose output has no timings),
-- and the migration applies with them
SET client_min_messages = notice;
SELECT version, name, status, statements FROM fleetmigrate.apply_pending(dry_run => true);
SET client_min_messages = warning;
SELECT version, name, status, statements FROM fleetmigrate.apply_pending();
SELECT attname FROM pg_attribute WHERE attrelid = 'tol_users'::regclass AND attnum > 0 ORDER BY attnum;
SELECT to_regclass('tol_history') IS NOT NULL AS history_created;

-- an error that is not tolerated fails the migration as usual
SELECT fleetmigrate.register('002', 'typo', E'ALTER TABLE tol_users ADD COLUMN note text;\nALTER TABLE tol_userz ADD COLUMN x int;', tolerate => '{42701}');
SELECT * FROM fleetmigrate.apply_pending();
SELECT attname FROM pg_attribute WHERE attrelid = 'tol_users'::regclass AND attname = 'note';
DELETE FROM fleetmigrate.migrations WHERE version = '002';

-- a skipped statement's partial effects are undone: this INSERT fails on
-- its second row, and the first row does not stay
CREATE UNIQUE INDEX ON tol_history (user_id);
SELECT fleetmigrate.register('003', 'seed', E'INSERT INTO tol_history VALUES (1, ''a''), (1, ''b'');\nINSERT INTO tol_history VALUES (2, ''c'');', tolerate => '{23505}');
SELECT version, name, status FROM fleetmigrate.apply_pending();
SELECT * FROM tol_history ORDER BY user_id;
-- migrate() skips the same way
SELECT fleetmigrate.register('004', 'again', 'CREATE TABLE tol_history (x int)', tolerate => '{42P07}');
CALL fleetmigrate.migrate();
SELECT version, state FROM fleetmigrate.status;

-- insufficient_privilege can never be tolerated, nor errors that must not
-- be hidden; bad codes are refused
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{42501}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{40P01}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{57014}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{duplicate_column}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{4270}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{42701, 42701}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => '{NULL}');
SELECT fleetmigrate.register('005', 'x', 'SELECT 1', tolerate => NULL);
SELECT fleetmigrate.register('005', 'x', 'CREATE INDEX CONCURRENTLY ON tol_users (id)', tolerate => '{42P07}');
SELECT * FROM fleetmigrate.register_bundle(E'-- migration: 005 x\n-- tolerate: 42501\nSELECT 1;');
-- a role without the privilege: the error fails the migration, never skipped
CREATE ROLE regress_tolerate_runner;
GRANT USAGE ON SCHEMA fleetmigrate TO regress_tolerate_runner;
GRANT EXECUTE ON FUNCTION fleetmigrate.apply_pending(text, boolean, jsonb, boolean, boolean, text[]) TO regress_tolerate_runner;
SELECT fleetmigrate.register('005', 'not_mine', 'ALTER TABLE tol_users ADD COLUMN auth_tier text', tolerate => '{42701}');
SET ROLE regress_tolerate_runner;
SELECT * FROM fleetmigrate.apply_pending();
RESET ROLE;

-- the tolerated codes are part of the migration: export and register again
SELECT fleetmigrate.export_bundle() LIKE E'%-- tolerate: 42701, 42P07\n%' AS exported;

DROP TABLE tol_users, tol_history;
DROP EXTENSION fleetmigrate;
DROP SCHEMA IF EXISTS fleetmigrate;
DROP ROLE regress_tolerate_runner;
